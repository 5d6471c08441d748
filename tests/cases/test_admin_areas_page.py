"""The GIS admin's controlled area page (/admin/gis/areas) end to end in headless Chromium over
gunicorn on the test database: the centre's admin draws a no-report area (禁止上报) around a
unit grid with terra-draw, with a daily window holding now, is told next to the field what is
missing first, saves it, and the page's precheck at a point inside says 禁止上报 naming the area;
an inspector's real report there is refused (409) and one outside its window is not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from accounts.demo import build_demo_organization
from spatial.models import AdminArea, ControlledArea, UnitGrid
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
CLICK_JS = """([lon, lat]) => {
  const p = window.gisMap.project([lon, lat]);
  const box = document.querySelector('#map').getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""


@pytest.fixture
def org(city, db):
    from cases.categories import load_demo_manual

    people = build_demo_organization()
    load_demo_manual()
    return {p.user.get_username(): p for p in people}


def _idle(page) -> None:
    page.wait_for_function(
        "() => window.gisReady && window.gisMap.loaded() && window.gisIdle === true",
        timeout=60000,
    )


def _report(base: str, session: str, lon: float, lat: float) -> requests.Response:
    cookies = {"sessionid": session, "csrftoken": "x" * 32}
    headers = {"X-CSRFToken": "x" * 32, "Referer": base + "/m/"}
    body = {
        "source": "inspector",
        "kind": "event",
        "category": "0102",
        "description": "门前暴露垃圾",
        "lon": lon,
        "lat": lat,
    }
    return requests.post(
        base + "/api/v1/cases", json=body, cookies=cookies, headers=headers, timeout=30
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_draw_a_no_report_area_and_the_precheck_refuses_a_report_in_it(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    street = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code").first()
    unit = UnitGrid.objects.filter(community__parent=street).order_by("code")[3]
    centre = unit.geom.point_on_surface
    lon, lat = centre.x, centre.y
    before = ControlledArea.objects.count()
    now = dt.datetime.now(SHANGHAI)
    start, end = (now - dt.timedelta(hours=1)), (now + dt.timedelta(hours=1))
    sessions = {name: session_of(name) for name in ("admin", f"inspector-{street.code}")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": sessions["admin"], "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/areas")
        page.wait_for_function("() => window.gisReady === true", timeout=60000)
        page.evaluate(f"() => window.gisMap.jumpTo({{center: [{lon}, {lat}], zoom: 17}})")
        _idle(page)

        page.get_by_role("button", name="保存管控区域").click()
        assert "请先在地图上绘制区域" in page.locator(".error[data-for='geometry']").inner_text()

        page.get_by_role("button", name="绘制区域").click()
        x, y = page.evaluate(CLICK_JS, [lon, lat])
        corners = [(x - 60, y - 50), (x + 70, y - 45), (x + 65, y + 55), (x - 55, y + 60)]
        for cx, cy in [*corners, corners[0]]:
            page.mouse.click(cx, cy)
            page.wait_for_timeout(250)
        drawn = page.evaluate(
            "() => window.gisDraw.getSnapshot().filter(f => f.geometry.type === 'Polygon').length"
        )
        assert drawn == 1

        page.get_by_role("button", name="保存管控区域").click()
        assert page.locator(".error[data-for='name']").inner_text() == "请填写区域名称"
        page.fill("#area input[name='name']", "测试小学门前")
        page.select_option("#area select[name='action']", "forbid")
        page.get_by_role("button", name="添加时段").click()
        page.locator("#windows input").nth(0).fill(start.strftime("%H:%M"))
        page.locator("#windows input").nth(1).fill(end.strftime("%H:%M"))
        page.fill("#area textarea[name='reason']", "上学放学时段门前禁止上报暴露垃圾")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/controlled-areas")) as made:
            page.get_by_role("button", name="保存管控区域").click()
        assert made.value.status == 201, made.value.text()
        area = made.value.json()
        page.wait_for_selector(f"#area-list li[data-id='{area['id']}']")

        # The page's precheck at the unit grid's point: refused, naming the area.
        page.select_option("#check select[name='category']", "event:0102")
        page.get_by_role("button", name="在地图上点选位置").click()
        page.mouse.click(x, y)
        page.wait_for_selector("#check-result:not([hidden])")
        result = page.locator("#check-result").inner_text()
        assert "禁止上报" in result and "测试小学门前" in result, result
        _idle(page)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-areas.png"))
        assert errors == []
        browser.close()

    assert ControlledArea.objects.count() == before + 1
    assert area["daily_windows"] == [[start.strftime("%H:%M"), end.strftime("%H:%M")]]
    assert area["action"] == "forbid" and area["geometry"]["type"] == "MultiPolygon"
    inspector = sessions[f"inspector-{street.code}"]
    refused = _report(base, inspector, lon, lat)
    assert refused.status_code == 409, refused.text
    assert "测试小学门前" in refused.json()["error"]["message"]
    # Outside its window (moved two hours on), the same report goes through.
    later = [(now + dt.timedelta(hours=h)).strftime("%H:%M") for h in (2, 3)]
    ControlledArea.objects.filter(pk=area["id"]).update(daily_windows=[later])
    allowed = _report(base, inspector, lon, lat)
    assert allowed.status_code == 201, allowed.text
