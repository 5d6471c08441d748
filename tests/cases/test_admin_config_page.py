"""The configuration page (/admin/gis/config) end to end in headless Chromium over gunicorn:
the centre's admin sets a holiday, is told next to the field about bad input, imports a
calendar sheet (a bad one is refused whole), and reads the workflows and the category tree as
tables. Only holders of config.edit open it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from openpyxl import Workbook

from accounts.demo import build_demo_organization
from cases.models import CalendarDay
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS


@pytest.fixture
def org(city, db):
    from cases.categories import load_demo_manual

    people = build_demo_organization()
    load_demo_manual()
    return {p.user.get_username(): p for p in people}


def _sheet(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    book.active.append(["日期", "是否工作日", "工作时段", "备注"])
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_only_config_editors_open_it(org):
    for username, status in (("admin", 200), ("gisadmin", 403), ("acceptor", 403)):
        client = Client()
        client.force_login(org[username].user)
        assert client.get("/admin/gis/config").status_code == status, username


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_set_holidays_by_hand_and_by_sheet_and_read_the_tables(servers, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    session = session_of("admin")
    from accounts.models import Department
    from cases.models import ManualEntry
    from spatial.models import AdminArea

    street = AdminArea.objects.filter(level="street").order_by("code").first()
    street_code = street.code
    inside = (street.geom.point_on_surface.x, street.geom.point_on_surface.y)
    entry = ManualEntry.objects.select_related("department").get(
        category__kind="event", category__code="0102", area__isnull=True
    )
    citywide = entry.department.name
    other_code = (
        Department.objects.filter(active=True, kind="handling")
        .exclude(pk=entry.department_id)
        .order_by("code")
        .first()
        .code
    )
    good = _sheet(
        tmp_path / "good.xlsx",
        [["2026-10-08", "否", "", "国庆节"], ["2026-10-10", "是", "", "调休"]],
    )
    bad = _sheet(
        tmp_path / "bad.xlsx", [["2026-10-20", "否", "", ""], ["2026-10-41", "否", "", ""]]
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/config")
        page.wait_for_function("() => window.gisReady === true", timeout=30000)

        page.get_by_role("button", name="保存").click()
        assert page.locator("#day-errors .error[data-for='date']").inner_text() == "请选择日期"
        page.fill("#day input[name='date']", "2026-12-07")
        page.select_option("#day select[name='working']", "true")
        page.fill("#day input[name='periods']", "8-12")
        page.get_by_role("button", name="保存").click()
        assert "工作时段写作" in page.locator("#day-errors .error[data-for='periods']").inner_text()
        page.select_option("#day select[name='working']", "false")
        page.fill("#day input[name='periods']", "")
        page.fill("#day input[name='note']", "测试假日")
        page.get_by_role("button", name="保存").click()
        page.wait_for_selector("#days tr[data-date='2026-12-07'].holiday")
        assert "星期一" in page.locator("#days tr[data-date='2026-12-07']").inner_text()

        page.set_input_files("#sheet input[name='file']", str(bad))
        page.get_by_role("button", name="导入", exact=True).click()
        page.wait_for_selector("#sheet-errors .error[data-for='file']:not(:empty)")
        assert "row 3" in page.locator("#sheet-errors .error[data-for='file']").inner_text()
        assert page.locator("#days tr[data-date='2026-10-20']").count() == 0
        page.set_input_files("#sheet input[name='file']", str(good))
        page.get_by_role("button", name="导入", exact=True).click()
        page.wait_for_selector("#days tr[data-date='2026-10-10'].working")
        assert page.locator("#days tbody tr").count() == 3
        page.screenshot(path=str(ARTIFACTS / "gis-admin-config-calendar.png"))
        with page.expect_download() as download:
            page.click("#export")
        assert download.value.suggested_filename == "calendar-default.xlsx"

        page.get_by_role("tab", name="流程定义").click()
        page.wait_for_selector("#tab-workflows table.grid")
        assert "所需权限" in page.locator("#tab-workflows").inner_text()
        page.screenshot(path=str(ARTIFACTS / "gis-admin-config-workflows.png"))
        page.get_by_role("tab", name="大小类与时限").click()
        page.wait_for_selector("#tab-categories table.grid tbody tr")
        text = page.locator("#tab-categories").inner_text()
        assert "0102" in text and "立案条件" in text
        page.screenshot(path=str(ARTIFACTS / "gis-admin-config-categories.png"))

        # The manual: a street of its own for event 0102, set by clicking the map.
        page.get_by_role("tab", name="事项指挥手册").click()
        page.wait_for_function("() => window.manualReady === true", timeout=60000)
        page.select_option("#manual-category", "event:0102")
        page.wait_for_function(
            "(name) => document.querySelector('#manual-citywide').textContent.includes(name)",
            arg=citywide,
            timeout=30000,
        )
        page.evaluate(
            f"() => window.manualMap.jumpTo({{center: [{inside[0]}, {inside[1]}], zoom: 13}})"
        )
        page.wait_for_function("() => window.manualMap.loaded()", timeout=60000)
        page.wait_for_timeout(500)
        box = page.locator("#manual-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#manual-entry:not([hidden])")
        page.select_option("#manual-entry select[name='area']", street_code)
        page.select_option("#manual-entry select[name='department']", other_code)
        page.fill("#manual-entry textarea[name='standard']", "两小时内清理完毕")
        page.get_by_role("button", name="保存", exact=True).last.click()
        page.wait_for_selector(f"#manual-legend li[data-area='{street_code}']")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-config-manual.png"))
        assert errors == []
        browser.close()

    own = ManualEntry.objects.get(category__kind="event", category__code="0102", area=street)
    assert own.department.code == other_code and own.standard == "两小时内清理完毕"
    days = {d.date.isoformat(): (d.working, d.note) for d in CalendarDay.objects.all()}
    assert days == {
        "2026-12-07": (False, "测试假日"),
        "2026-10-08": (False, "国庆节"),
        "2026-10-10": (True, "调休"),
    }
