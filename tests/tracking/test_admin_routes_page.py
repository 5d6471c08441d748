"""The patrol route page (/admin/gis/routes) end to end in headless Chromium over gunicorn: the
shift leader (tracking.monitor) draws a route with terra-draw, is told next to the field what is
missing, puts two checkpoints beside it, names one and gives it a time window, saves, and the
route with its checkpoints is listed and served by the tracking routes API."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from accounts.demo import build_demo_organization
from spatial.models import AdminArea
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS

CLICK_JS = """([lon, lat]) => {
  const p = window.gisMap.project([lon, lat]);
  const box = document.querySelector('#map').getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""


@pytest.fixture
def org(city, db):
    return {p.user.get_username(): p for p in build_demo_organization()}


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_draw_a_route_with_two_checkpoints_and_find_it_in_the_api(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    street = AdminArea.objects.filter(level="street").order_by("code").first()
    centre = street.geom.point_on_surface
    session = session_of("shiftleader")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/routes")
        page.wait_for_function("() => window.gisReady === true", timeout=60000)
        page.evaluate(f"() => window.gisMap.jumpTo({{center: [{centre.x}, {centre.y}], zoom: 16}})")
        page.wait_for_function("() => window.gisMap.loaded()", timeout=60000)

        page.get_by_role("button", name="保存巡查路线").click()
        assert "请先在地图上绘制路线" in page.locator(".error[data-for='line']").inner_text()

        x, y = page.evaluate(CLICK_JS, [centre.x, centre.y])
        page.get_by_role("button", name="绘制路线").click()
        for cx, cy in [(x - 200, y + 80), (x, y - 40), (x + 220, y + 20), (x + 220, y + 20)]:
            page.mouse.click(cx, cy)
            page.wait_for_timeout(300)
        lines = page.evaluate(
            "() => window.gisDraw.getSnapshot().filter(f => f.geometry.type === 'LineString')"
            ".map(f => f.geometry.coordinates.length)"
        )
        assert lines == [3], lines
        page.get_by_role("button", name="添加巡查点").click()
        for cx, cy in [(x - 100, y + 60), (x + 120, y - 10)]:
            page.mouse.click(cx, cy)
            page.wait_for_timeout(300)
        assert page.locator("#cp-count").inner_text() == "2"
        page.locator("#checkpoints li").nth(0).locator("input").nth(0).fill("学校门口")
        page.locator("#checkpoints li").nth(1).locator("input[type='time']").nth(0).fill("07:00")
        page.get_by_role("button", name="保存巡查路线").click()
        assert page.locator(".error[data-for='name']").inner_text() == "请填写路线名称"
        page.fill("#route input[name='name']", "测试早班巡查")
        page.get_by_role("button", name="保存巡查路线").click()
        assert "同时填写起止时间" in page.locator(".error[data-for='checkpoints']").inner_text()
        page.locator("#checkpoints li").nth(1).locator("input[type='time']").nth(1).fill("09:00")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/tracking/routes")) as made:
            page.get_by_role("button", name="保存巡查路线").click()
        assert made.value.status == 201, made.value.text()
        page.wait_for_selector("#route-list li[data-route]")
        assert "2 个巡查点" in page.locator("#route-list").inner_text()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-routes.png"))
        assert errors == []
        browser.close()

    served = requests.get(
        base + "/api/v1/tracking/routes", cookies={"sessionid": session}, timeout=30
    ).json()["features"]
    route = next(f for f in served if f["properties"].get("name") == "测试早班巡查")
    assert len(route["geometry"]["coordinates"]) == 3
    points = sorted(
        (f["properties"] for f in served if f["properties"]["kind"] == "checkpoint"),
        key=lambda c: c["order"],
    )
    assert [c["name"] for c in points] == ["学校门口", "巡查点2"]
    assert (points[1]["window_start"], points[1]["window_end"]) == ("07:00", "09:00")
