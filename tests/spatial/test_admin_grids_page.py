"""The GIS admin's responsibility grid page (/admin/gis/grids) end to end in headless Chromium
over gunicorn on the test database: the GIS admin ticks four unit grids of one community on
the map, is told next to the field that they belong to another grid, moves them, saves, and
`locate` places a point of each in the new grid; the old grid as it was before stays readable
on the page's history form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from accounts.demo import build_demo_organization
from spatial.models import ResponsibilityGrid, UnitGrid
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


def _idle(page) -> None:
    page.wait_for_function(
        "() => window.gisReady && window.gisMap.loaded() && window.gisIdle === true",
        timeout=60000,
    )


def _four_unit_grids() -> tuple[list[UnitGrid], ResponsibilityGrid]:
    """Gives four unit grids of one responsibility grid holding more than four (so moving them
    leaves it some), and that grid."""
    for grid in ResponsibilityGrid.objects.order_by("code"):
        units = list(grid.unit_grids.order_by("code"))
        if len(units) > 4:
            return units[:4], grid
    pytest.fail("the test city has no responsibility grid of more than four unit grids")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_build_a_grid_from_four_unit_grids_and_find_it_with_locate(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    units, old = _four_unit_grids()
    points = [(u.geom.point_on_surface.x, u.geom.point_on_surface.y) for u in units]
    centre = (sum(p[0] for p in points) / 4, sum(p[1] for p in points) / 4)
    old_count = old.unit_grids.count()
    session = session_of("gisadmin")
    before = dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=8)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/grids")
        page.wait_for_function("() => window.gisReady === true", timeout=60000)
        page.evaluate(
            f"() => window.gisMap.jumpTo({{center: [{centre[0]}, {centre[1]}], zoom: 16}})"
        )
        _idle(page)
        for point in points:
            x, y = page.evaluate(CLICK_JS, list(point))
            page.mouse.click(x, y)
        assert page.locator("#count").inner_text() == "4"
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-grids-ticked.png"))
        chips = page.locator("#chips").inner_text()
        assert all(u.code in chips for u in units) and old.name in chips

        page.get_by_role("button", name="保存责任网格").click()
        assert page.locator(".error[data-for='name']").inner_text() == "请填写责任网格名称"
        page.fill("input[name='name']", "测试第一责任网格")
        page.get_by_role("button", name="保存责任网格").click()
        page.wait_for_selector(".error[data-for='unit_grids']:not(:empty)")
        assert "从原责任网格移出" in page.locator(".error[data-for='unit_grids']").inner_text()
        page.check("input[name='move']")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/responsibility-grids")) as made:
            page.get_by_role("button", name="保存责任网格").click()
        assert made.value.status == 201, made.value.text()
        grid = made.value.json()
        page.wait_for_selector("#saved b")
        assert page.locator("#saved b").inner_text() == grid["code"]
        _idle(page)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-grids.png"))

        # The old grid as it was before the move, on the history form.
        page.fill("#history input[name='code']", old.code)
        page.fill("#history input[name='on']", before.strftime("%Y-%m-%dT%H:%M:%S"))
        page.get_by_role("button", name="查询当时范围").click()
        page.wait_for_selector("#history-result:not([hidden])")
        assert f"{old_count} 个单元网格" in page.locator("#history-result").inner_text()
        _idle(page)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-grids-history.png"))
        assert errors == []
        browser.close()

    community = units[0].community.code
    assert grid["code"].startswith(f"{community}R") and len(grid["code"]) == 15
    assert sorted(grid["unit_grids"]) == sorted(u.code for u in units)
    cookies = {"sessionid": session}
    for point in points:
        placed = requests.get(
            f"{base}/api/v1/locate",
            params={"lon": point[0], "lat": point[1]},
            cookies=cookies,
            timeout=30,
        ).json()["placement"]
        assert placed["responsibility_grid"]["code"] == grid["code"]
    old.refresh_from_db()
    assert old.unit_grids.count() == old_count - 4
