"""Duplicate cases (重复案件, spec 5.2.4.2) in the console, end to end in headless Chromium: a case
waiting for registration after a closed case of its class in the same unit grid shows 重复 with
the earlier case; registering is refused, the shift leader links it, and it is not registered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.cases.test_console_page import (  # noqa: F401 (servers is a fixture)
    ARTIFACTS,
    api,
    open_console,
    servers,
    session_of,
)
from tests.tiles.test_map_page import ARGS, CHROMIUM


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_console_marks_a_duplicate_and_the_shift_leader_links_it(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from cases.models import Case, DuplicateRule
    from data.models import Category
    from tests.cases.conftest import inside

    base = servers
    street = two_streets[0]
    lon, lat = inside(street)
    DuplicateRule.objects.create(category=Category.objects.get(kind="event", code="0102"))
    inspector = session_of(f"inspector-{street.code}")
    acceptor, leader = session_of("acceptor"), session_of("shiftleader")
    report = {"source": "inspector", "kind": "event", "category": "0102", "description": "暴露垃圾"}
    earlier = api(base, inspector, "/api/v1/cases", {**report, "lon": lon, "lat": lat})
    # Setup: the earlier case closed four days ago (closing it is tested elsewhere).
    reported = Case.objects.get(pk=earlier["id"]).reported_at
    Case.objects.filter(pk=earlier["id"]).update(
        state="closed",
        reported_at=reported - dt.timedelta(days=5),
        closed_at=reported - dt.timedelta(days=4),
    )
    again = api(base, inspector, "/api/v1/cases", {**report, "lon": lon, "lat": lat})
    again = api(
        base, acceptor, f"/api/v1/cases/{again['id']}/actions/accept", {"version": again["version"]}
    )
    assert again["state"] == "to_register"
    found = api(base, leader, f"/api/v1/cases/{again['id']}/duplicates")
    assert found["status"] == "suspected" and [d["id"] for d in found["duplicates"]] == [
        earlier["id"]
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, leader)
        page.click("button[data-box='to_register']")
        row = page.locator(f"#cases tr[data-id='{again['id']}']")
        row.wait_for()
        row.click()
        page.wait_for_selector("#detail .duplicate-cases button[data-link-duplicate]")
        section = page.locator("#detail .duplicate-cases")
        assert "重复" in section.locator(".duplicate").inner_text()
        assert "疑似重复案件" in section.inner_text() and earlier["number"] in section.inner_text()
        assert section.locator("button[data-dismiss-duplicate]").count() == 1
        page.screenshot(path=str(ARTIFACTS / "console-duplicates.png"))
        section.locator(f"button[data-link-duplicate='{earlier['id']}']").click()
        # 5.2.4.2: linked, the case stays in 待立案 and registration comes back.
        page.wait_for_selector("#detail .duplicate-cases h2:has-text('已认定重复')")
        page.wait_for_selector("#detail h3:has-text('待立案')")
        page.wait_for_selector("#detail button[data-action='register']")
        assert page.locator("#detail .duplicate-cases button[data-link-duplicate]").count() == 0
        assert page.locator(f"#cases tr[data-id='{again['id']}'] .duplicate").count() == 1
        assert (
            f"重复案件：与 {earlier['number']} 重复"
            in page.locator("#detail .timeline").inner_text()
        )
        assert errors == []
        browser.close()
    assert Case.objects.get(pk=again["id"]).duplicate_of_id == earlier["id"]
