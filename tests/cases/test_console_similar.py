"""Similar cases (相似案件, spec 5.2.3.3-5.2.3.4) in the console, end to end in headless Chromium:
two reports 4 m apart; the acceptor's list marks the second 相似 and its detail lists the first,
which opens from the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.test_console_page import (  # noqa: F401 (servers is a fixture)
    ARTIFACTS,
    api,
    open_console,
    servers,
    session_of,
)
from tests.cases.test_precheck import moved
from tests.tiles.test_map_page import ARGS, CHROMIUM


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_console_marks_a_similar_case_and_lists_its_similar_cases(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.cases.conftest import inside

    base = servers
    street = two_streets[0]
    lon, lat = inside(street)
    inspector = session_of(f"inspector-{street.code}")
    acceptor_session = session_of("acceptor")
    report = {"source": "inspector", "kind": "event", "category": "0102", "description": "暴露垃圾"}
    first = api(base, inspector, "/api/v1/cases", {**report, "lon": lon, "lat": lat})
    near_lon, near_lat = moved(lon, lat, 4.0)
    second = api(base, inspector, "/api/v1/cases", {**report, "lon": near_lon, "lat": near_lat})
    assert first["similar_count"] == 0 and second["similar_count"] == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, acceptor_session)
        page.click("button[data-box='to_accept']")
        row = page.locator(f"#cases tr[data-id='{second['id']}']")
        row.wait_for()
        assert row.locator(".similar").inner_text() == "相似"
        assert page.locator(f"#cases tr[data-id='{first['id']}'] .similar").count() == 0
        row.click()
        page.wait_for_selector("#detail .similar-cases li a")
        listed = page.locator("#detail .similar-cases")
        assert "相似案件（1）" in listed.inner_text()
        assert first["number"] in listed.inner_text() and "米" in listed.inner_text()
        page.screenshot(path=str(ARTIFACTS / "console-similar.png"))
        listed.get_by_role("link", name=first["number"]).click()
        page.wait_for_selector(f"#detail .num:has-text('{first['number']}')")

        # 案件合并 from the list: tick the similar case, merge; the earliest survives.
        page.locator(f"#cases tr[data-id='{second['id']}']").click()
        tick = page.locator(f"#detail .similar-cases input[data-merge='{first['id']}']")
        tick.wait_for()
        tick.check()
        page.fill("#merge-opinion", "同一处垃圾")
        page.click("#detail button[data-merge-go]")
        page.wait_for_selector(f"#detail .num:has-text('{first['number']}')")
        page.wait_for_selector("#detail .timeline :text('合并案件')")
        assert errors == []
        browser.close()
    from cases.models import Case

    assert Case.objects.get(pk=second["id"]).merged_into_id == first["id"]
