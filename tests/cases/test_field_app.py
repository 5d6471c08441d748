"""The field app (/m/, 城管通) end to end in headless Chromium on a phone viewport: an inspector
signs in on the sign-in page, the service worker takes the app, the phone goes offline and the
page still opens from the worker; a case is reported with a photo and a 补采 task answered with
a photo while offline, both wait in the outbox; back online they arrive once each (the case,
its photo, the task's answer and the GPS fixes, read from the database afterwards). Online, the
precheck's warning (a class outside its reporting hours, warned) and block (a class whose hours
forbid reporting now) show before sending, and the block disables 发送."""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from tests.cases.conftest import inside
from tests.cases.test_console_page import ARTIFACTS, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS, CHROMIUM

PHONE = {"width": 390, "height": 844}
DESCRIPTION = "离线上报：人行道上一堆暴露垃圾，约一平方米"
SELF_HANDLED = "路边少量暴露垃圾，已随手清理"
PICKED = "井盖破损，边缘翘起"


def jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def api(base: str, session: str, path: str) -> dict:
    answer = requests.get(base + path, cookies={"sessionid": session}, timeout=30)
    assert answer.ok, (path, answer.status_code, answer.text)
    return answer.json()


def hours_outside_now(delta_start: int, delta_end: int) -> list[list[str]]:
    now = timezone.localtime()
    a = (now + dt.timedelta(hours=delta_start)).strftime("%H:%M")
    b = (now + dt.timedelta(hours=delta_end)).strftime("%H:%M")
    return [[a, b]]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_an_inspector_reports_offline_and_the_case_arrives_once(servers, two_streets, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from accounts.models import Person
    from cases.models import Case, CaseMedia, CaseTask, ReportHours
    from data.models import Category
    from tests.cases.test_main_path import act, report
    from spatial.models import Component
    from tracking.models import ClockRecord, Fix, Tracker

    base = servers
    street = two_streets[0]
    lon, lat = inside(street)
    username = f"inspector-{street.code}"
    person = Person.objects.get(user__username=username)
    tracker = Tracker.objects.create(device_id="PHONE-FIELD", kind="person", person=person)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # The rules the precheck tells: 0102 may be reported outside its hours with a warning; a
    # sibling class not at all now.
    warned = Category.objects.get(kind="event", code="0102")
    forbidden = Category.objects.filter(kind="event", parent=warned.parent).exclude(pk=warned.pk)
    forbidden = forbidden.order_by("code").first()
    assert forbidden is not None
    ReportHours.objects.create(
        category=warned, daily_windows=hours_outside_now(2, 3), action="warn", reason="非作业时段"
    )
    ReportHours.objects.create(
        category=forbidden,
        daily_windows=hours_outside_now(2, 3),
        action="forbid",
        reason="夜间禁报",
    )

    # A 补采 task for the inspector on a case of theirs, asked by the acceptor (sessions and
    # the ORM before Playwright's loop).
    from django.test import Client

    inspector_client, acceptor_client = Client(), Client()
    inspector_client.force_login(person.user)
    acceptor_client.force_login(Person.objects.get(user__username="acceptor").user)
    asked_case = report(inspector_client, lon, lat, description="井盖旁垃圾").json()["id"]
    asked = act(acceptor_client, asked_case, "request_supplement", 1, opinion="请补拍近景")
    assert asked.status_code == 200, asked.content
    assert CaseTask.objects.filter(case_id=asked_case, done_at__isnull=True).count() == 1
    session = session_of(username)
    photo_path = tmp_path / "scene.jpg"
    photo_path.write_bytes(jpeg((120, 140, 90)))
    close_path = tmp_path / "close.jpg"
    close_path.write_bytes(jpeg((90, 100, 160)))
    assert not Case.objects.filter(description=DESCRIPTION).exists()
    # A component of the street, picked on the map later.
    component = next(
        c
        for c in Component.objects.filter(geom__within=street.geom).select_related("category")
        if c.geom.geom_type == "Point"
    )
    component_at = (component.geom.x, component.geom.y)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
            permissions=["geolocation"],
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # Sign in through the sign-in page; the app opens and the worker takes it.
        page.goto(base + "/m/")
        assert "/accounts/login/" in page.url
        page.fill("#id_username", username)
        page.fill("#id_password", "citygrid-demo")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/m/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
        page.wait_for_function("() => window.fieldMap && window.fieldMap.loaded()", timeout=60000)
        page.wait_for_selector("#gps:has-text('精度')", state="attached")
        page.click("#tabs button[data-tab='tasks']")
        page.wait_for_selector(f"#task-list li[data-case='{asked_case}']")
        page.click("#tabs button[data-tab='map']")
        page.wait_for_timeout(1500)  # the tiles of the view land in the worker's cache
        page.screenshot(path=str(ARTIFACTS / "field-map.png"))
        manifest = requests.get(base + "/m/manifest.webmanifest", timeout=10).json()
        assert manifest["scope"] == "/m/" and manifest["display"] == "standalone"

        # Offline: the page opens from the worker's cache.
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#net.off")
        assert "离线" in page.inner_text("#net")
        page.wait_for_function("() => window.fieldMap && window.fieldMap.loaded()", timeout=60000)

        # Report with a photo: class search, the registration conditions, the photo.
        page.click("#open-report")
        page.fill("#category-search", warned.name)
        page.click(f"#category-results button[data-code='{warned.code}']")
        page.wait_for_selector("#conditions li")
        assert "立案条件" in page.inner_text("#conditions")
        assert "离线" in page.inner_text("#precheck")
        page.fill("textarea[name='description']", DESCRIPTION)
        page.set_input_files("input[name='photos']", str(photo_path))
        page.wait_for_selector("#photos-report .thumb img")
        page.screenshot(path=str(ARTIFACTS / "field-report-offline.png"))
        page.click("#send")
        page.wait_for_selector("#sheet", state="hidden")

        # The task answered offline, with its photo.
        page.click("#tabs button[data-tab='tasks']")
        card = page.locator(f"#task-list li[data-case='{asked_case}']")
        card.get_by_role("button", name="反馈").click()
        card.locator("textarea[name='opinion']").fill("已补拍近景两张")
        card.locator("input[name='photos']").set_input_files(str(close_path))
        card.locator(".thumb img").wait_for()
        card.get_by_role("button", name="提交反馈").click()
        page.wait_for_selector(f"#task-list li[data-case='{asked_case}']", state="detached")

        page.click("#tabs button[data-tab='history']")
        page.wait_for_selector("#history-list li.queued")
        assert page.locator("#history-list li.queued").count() == 2
        assert "待发送 2" in page.inner_text("#net")
        page.screenshot(path=str(ARTIFACTS / "field-history-offline.png"))
        # Nothing reached the server meanwhile.
        mine = api(base, session, "/api/v1/cases?box=my_reports&limit=100")["features"]
        assert DESCRIPTION not in [f["properties"]["description"] for f in mine]

        # Online again: the outbox sends both, once.
        context.set_offline(False)
        page.wait_for_function(
            "() => document.querySelectorAll('#history-list li.sent').length === 2", timeout=30000
        )
        assert page.locator("#history-list li.failed").count() == 0
        page.wait_for_selector("#net.on")
        page.screenshot(path=str(ARTIFACTS / "field-history-sent.png"))
        # A second flush (the 30 s timer, another online event) sends nothing again.
        again = page.evaluate("() => window.fieldApp.flush()")
        assert again == {"sent": 0, "failed": 0, "waiting": 0}
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        time.sleep(1)

        # Online precheck: the block for the forbidden class, the warning for 0102.
        page.click("#tabs button[data-tab='map']")
        page.click("#open-report")
        page.fill("#category-search", forbidden.name)
        page.click(f"#category-results button[data-code='{forbidden.code}']")
        page.wait_for_selector("#precheck.blocked")
        assert "夜间禁报" in page.inner_text("#precheck")
        assert page.locator("#send").is_disabled()
        page.locator("#precheck").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "field-precheck-blocked.png"))
        page.fill("#category-search", warned.name)
        page.click(f"#category-results button[data-code='{warned.code}']")
        page.wait_for_selector("#precheck.warned")
        assert "非作业时段" in page.inner_text("#precheck")
        assert page.locator("#send").is_enabled()
        page.fill("textarea[name='description']", "路边暴露垃圾")
        page.locator("#send").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "field-precheck-warned.png"))
        page.click("#sheet-close")

        # A component picked on the map: its class follows from its code.
        page.evaluate(
            f"() => window.fieldMap.jumpTo({{center: [{component_at[0]}, {component_at[1]}], zoom: 18}})"
        )
        page.wait_for_function(
            "() => window.fieldMap.loaded() && window.fieldMap.queryRenderedFeatures().some("
            "f => f.properties.code === '" + component.code + "')",
            timeout=30000,
        )
        page.click("#open-report")
        page.click("#pick-on-map")
        page.wait_for_selector("#pick-hint")
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate(
            f"() => {{ const p = window.fieldMap.project([{component_at[0]}, {component_at[1]}]);"
            " return [p.x, p.y]; }"
        )
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_selector("#sheet:not([hidden])")
        assert component.code in page.inner_text("#component-chosen")
        assert page.is_checked("input[name='kind'][value='component']")
        assert component.category.code in page.inner_text("#category-chosen")
        page.fill("textarea[name='description']", PICKED)
        page.click("#send")
        page.wait_for_selector("#sheet", state="hidden")

        # Self-handling: the same form with photos before and after, sent online.
        page.click("#open-self")
        page.fill("#category-search", warned.name)
        page.click(f"#category-results button[data-code='{warned.code}']")
        page.fill("textarea[name='description']", SELF_HANDLED)
        page.set_input_files("input[name='before']", str(photo_path))
        page.set_input_files("input[name='after']", str(close_path))
        page.wait_for_selector(".thumbs[data-for='after'] .thumb img")
        page.click("#send")
        page.wait_for_selector("#sheet", state="hidden")
        page.click("#tabs button[data-tab='history']")
        page.wait_for_function(
            "() => document.querySelectorAll('#history-list li.sent').length === 4", timeout=30000
        )

        # Clock-in with a photo, from where the phone is.
        page.click("#tabs button[data-tab='me']")
        page.set_input_files("input[name='photo']", str(photo_path))
        page.wait_for_selector(".thumbs[data-for='photo'] img")
        page.get_by_role("button", name="上班打卡").click()
        page.wait_for_selector("#clock-list li:has-text('上班')")
        page.screenshot(path=str(ARTIFACTS / "field-me.png"))

        # The style and the tiles seen are in the worker's cache (for the next dead zone); the
        # labels' CJK glyphs are drawn on the phone (localIdeographFontFamily), not fetched.
        cached = page.evaluate(
            "() => caches.open('citygrid-field-tiles').then(c => c.keys())"
            ".then(keys => keys.map(k => new URL(k.url).pathname))"
        )
        assert any(path.startswith("/tiles/") for path in cached), cached
        assert "/styles/base.json" in cached
        fonts = page.evaluate(
            "() => document.fonts.check('16px \"WenQuanYi Micro Hei\"', '城管通上报')"
        )
        assert fonts
        assert not errors, errors
        browser.close()

    # Exactly once: one case with its one photo, the task answered once, the fixes stored.
    cases = list(Case.objects.filter(description=DESCRIPTION))
    assert len(cases) == 1
    case = cases[0]
    assert case.report_key is not None and case.reported_by == person.user
    assert case.street_code == street.code
    media = list(CaseMedia.objects.filter(case=case))
    assert len(media) == 1 and media[0].stage == "report" and media[0].content_type == "image/jpeg"
    task = CaseTask.objects.get(case_id=asked_case)
    assert task.done_at is not None and task.answer == "已补拍近景两张"
    assert CaseMedia.objects.filter(case_id=asked_case, stage="supplement").count() == 1
    assert Case.objects.get(pk=asked_case).state == "reported"
    assert Fix.objects.filter(tracker=tracker).count() >= 1
    picked = Case.objects.get(description=PICKED)
    assert picked.component_code == component.code and picked.category == component.category
    fixed = Case.objects.get(description=SELF_HANDLED)
    assert fixed.self_handled and fixed.state == "to_review"
    stages = sorted(CaseMedia.objects.filter(case=fixed).values_list("stage", flat=True))
    assert stages == ["report", "self_handled"]
    assert ClockRecord.objects.filter(tracker=tracker, kind="in").count() == 1


@pytest.mark.django_db
def test_the_app_its_manifest_and_its_worker_are_served_under_m(as_user, client, two_streets):
    from accounts import permissions as perms
    from accounts.scoping import scope_for_user

    street = two_streets[0]
    assert client.get("/m/").status_code == 302  # the sign-in page first
    assert client.get("/m").headers["Location"] == "/m/"

    inspector = as_user(f"inspector-{street.code}")
    page = inspector.get("/m/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    config = page.context["field_config"]
    assert config["precheckUrl"] == "/api/v1/cases/precheck"
    assert config["area"]["type"] in ("Polygon", "MultiPolygon") and config["area"]["coordinates"]
    assert street.name in config["streets"]

    department = as_user("dept-huanwei")
    assert not scope_for_user(_user("dept-huanwei")).has_perm(perms.CASES_REPORT)
    assert department.get("/m/").status_code == 403

    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.headers["Content-Type"] == "application/manifest+json"
    assert manifest.json()["scope"] == "/m/" and manifest.json()["start_url"] == "/m/"
    worker = client.get("/m/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Content-Type"].startswith("application/javascript")
    assert worker.headers["Service-Worker-Allowed"] == "/m/"
    assert worker.headers["Cache-Control"] == "no-cache"
    body = worker.content.decode()
    assert body.startswith("var SHELL_VERSION = ") and '"/static/field/field.js"' in body


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)
