"""The public service page (/public) end to end in headless Chromium, on a phone and a desktop:
gunicorn on the test database; a citizen sees the public cases and the nearby convenience
points, signs in with the code the SMS sender carried, reports a problem with a photo at a
point picked on the map, and finds it with its photo under "my cases"."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from PIL import Image

from tests.cases.conftest import inside
from tests.cases.test_console_page import ARTIFACTS, _start
from tests.tiles.test_map_page import ARGS, CHROMIUM, ROOT, free_port

SMS_FILE_ENV = "CITYGRID_TEST_SMS_FILE"


class FileSmsSender:
    """An SMS sender for the page test: appends ``phone<TAB>text`` lines to a file the test
    reads (the server runs in another process)."""

    def send(self, phone: str, text: str) -> str:
        with open(os.environ[SMS_FILE_ENV], "a", encoding="utf-8") as out:
            out.write(f"{phone}\t{text}\n")
        return text


def code_sent_to(path: Path, phone: str) -> str:
    import re

    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(phone)
    ]
    assert lines, f"no text to {phone}"
    return re.search(r"验证码是 (\d{6})", lines[-1].split("\t", 1)[1]).group(1)


@pytest.fixture
def site(org, tmp_path):
    """Gives (base URL, the SMS file): gunicorn on the test database."""
    from django.conf import settings

    if not (ROOT / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.js").exists():
        pytest.fail("node_modules/maplibre-gl missing: run scripts/install.sh (npm ci)")
    port = free_port()
    sms = tmp_path / "sms.txt"
    sms.write_text("", encoding="utf-8")
    env = {
        **os.environ,
        "CITYGRID_PG_DB": settings.DATABASES["default"]["NAME"],
        "CITYGRID_CACHE_PREFIX": settings.DATABASES["default"]["NAME"] + "-public",
        "CITYGRID_DEBUG": "1",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_SMS_SENDER": "tests.cases.test_public_page.FileSmsSender",
        SMS_FILE_ENV: str(sms),
        # Every run signs in from 127.0.0.1; the per-address limit is tested in test_citizens.
        "CITYGRID_CITIZEN_CODES_PER_IP_HOUR": "1000000",
    }
    bin_dir = Path(sys.executable).parent
    base = f"http://127.0.0.1:{port}"
    web = _start(
        [str(bin_dir / "gunicorn"), "web.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", "2", "--threads", "4", "--log-level", "warning"],
        env,
        base + "/api/v1/health",
    )  # fmt: skip
    try:
        yield base, sms
    finally:
        web.terminate()
        web.wait(timeout=20)


def photo_file(tmp_path: Path) -> Path:
    data = io.BytesIO()
    Image.new("RGB", (320, 240), (170, 120, 60)).save(data, "JPEG")
    path = tmp_path / "垃圾.jpg"
    path.write_bytes(data.getvalue())
    return path


def open_page(browser, base: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/public")
    page.wait_for_function("() => window.publicMap && window.publicMap.loaded()", timeout=60000)
    return page, errors


def report_and_follow(page, base: str, sms: Path, phone: str, lon: float, lat: float, photo, tag):
    """Signs in, reports with a photo at (lon, lat), opens 我的案件; gives the case number."""
    page.evaluate(f"() => window.publicMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
    page.get_by_role("button", name="我要反映").click()
    form = page.locator("#tab-report form.signin")
    form.locator("input[name='phone']").fill(phone)
    with page.expect_response(lambda r: r.url.endswith("/citizens/code")) as sent:
        form.get_by_role("button", name="获取验证码").click()
    assert sent.value.status == 202, sent.value.text()
    form.locator("input[name='code']").fill(code_sent_to(sms, phone))
    with page.expect_response(lambda r: r.url.endswith("/citizens/session")) as signed:
        form.get_by_role("button", name="登录").click()
    assert signed.value.status == 201, signed.value.text()
    page.wait_for_selector("#report-form:not([hidden])")
    page.select_option("#report-form select[name='service_code']", "E0102")
    page.fill("#report-form textarea[name='description']", f"小区东门外垃圾堆积（{tag}）")
    page.set_input_files("#report-form input[name='media']", str(photo))
    page.wait_for_selector("#photo-preview img")
    page.get_by_role("button", name="在地图上选点").click()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#pick-hint", state="hidden")
    page.screenshot(path=str(ARTIFACTS / f"public-report-{tag}.png"))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/public/reports")) as made:
        page.get_by_role("button", name="提交").click()
    assert made.value.status == 201, made.value.text()
    number = made.value.json()["number"]
    page.wait_for_selector(f"#report-note:has-text('{number}')")

    page.get_by_role("button", name="我的案件").click()
    card = page.locator(f"#mine-list li[data-number='{number}']")
    card.wait_for()
    assert "待受理" in card.inner_text() and f"小区东门外垃圾堆积（{tag}）" in card.inner_text()
    image = card.locator(".photos img").first
    image.wait_for()
    page.wait_for_function(
        "(n) => { const i = document.querySelector(`#mine-list li[data-number='${n}'] .photos img`);"
        " return i && i.complete && i.naturalWidth === 320; }",
        arg=number,
        timeout=15000,
    )
    page.screenshot(path=str(ARTIFACTS / f"public-mine-{tag}.png"))
    return number


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_a_citizen_reports_with_a_photo_and_finds_it_in_my_cases(site, two_streets, tmp_path):
    from playwright.sync_api import sync_playwright

    from cases.models import Case, CaseMedia, ConveniencePoint

    base, sms = site
    street = two_streets[0]
    lon, lat = inside(street)
    ConveniencePoint.objects.create(
        kind="toilet", name="公共厕所（测试街）", address="测试街1号", contact="12345",
        geom=Point(lon + 0.001, lat, srid=4326),
    )  # fmt: skip
    ConveniencePoint.objects.create(
        kind="parking",
        name="测试停车场",
        address="测试街9号",
        geom=Point(lon, lat + 0.001, srid=4326),
    )
    assert ConveniencePoint.objects.count() == 2
    photo = photo_file(tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    numbers = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for tag, viewport, phone in (
            ("phone", {"width": 390, "height": 844}, "13511112222"),
            ("desktop", {"width": 1366, "height": 820}, "13511113333"),
        ):
            page, errors = open_page(browser, base, viewport)
            page.evaluate(f"() => window.publicMap.jumpTo({{center: [{lon}, {lat}], zoom: 15}})")
            page.wait_for_selector("#near-list li")
            names = page.locator("#near-list li strong").all_inner_texts()
            assert names[:2] == ["公共厕所（测试街）", "测试停车场"], names
            page.screenshot(path=str(ARTIFACTS / f"public-map-{tag}.png"))
            numbers[tag] = report_and_follow(page, base, sms, phone, lon, lat, photo, tag)
            # From my cases to the map: the case's dot, clicked, opens its public card.
            card = page.locator(f"#mine-list li[data-number='{numbers[tag]}']")
            card.get_by_role("button", name="在地图上查看").click()
            page.wait_for_function(
                "(n) => window.publicMap.loaded() && window.publicMap.queryRenderedFeatures("
                "{layers: ['case-points']}).some(f => f.properties.number === n)",
                arg=numbers[tag],
                timeout=30000,
            )
            x, y = page.evaluate(
                "(n) => { const f = window.publicMap.queryRenderedFeatures({layers: ['case-points']})"
                ".find(f => f.properties.number === n); const p = window.publicMap.project("
                "f.geometry.coordinates); return [p.x, p.y]; }",
                numbers[tag],
            )
            box = page.locator("#map").bounding_box()
            page.mouse.click(box["x"] + x, box["y"] + y)
            page.wait_for_selector(f"#case-card:has-text('{numbers[tag]}')")
            assert "暴露垃圾" in page.locator("#case-card").inner_text()
            page.screenshot(path=str(ARTIFACTS / f"public-card-{tag}.png"))
            # Keyboard: the tabs are buttons reached by Tab and pressed with Enter.
            page.locator("#tabs button[data-tab='map']").focus()
            page.keyboard.press("Enter")
            assert page.locator("#tab-map").is_visible()
            assert errors == [], errors
        browser.close()
    for tag, number in numbers.items():
        case = Case.objects.get(number=number)
        assert case.source == "public" and case.public.channel == "web"
        assert case.street_code == street.code and case.public.citizen.phone.startswith("135")
        assert CaseMedia.objects.filter(case=case, stage="report").count() == 1
