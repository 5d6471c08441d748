"""Around a case (周边) and 派最近监督员 in the console, end to end in headless Chromium: the
shift leader opens a case waiting for verification, sees the street's inspector online 30 m away in
the detail's 周边 section, sends them the verification with the button (by keyboard), and the
case moves to 核实中 with the inspector's task in its history."""

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
from tests.cases.test_precheck import moved
from tests.tiles.test_map_page import ARGS, CHROMIUM


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_console_lists_what_is_around_and_sends_the_nearest_inspector(servers, two_streets):  # noqa: F811
    from django.utils import timezone
    from playwright.sync_api import sync_playwright

    from cases.models import CaseTask
    from tests.cases.conftest import inside
    from tracking.demo import build_demo_trackers

    base = servers
    street = two_streets[0]
    build_demo_trackers()
    lon, lat = inside(street)
    acceptor = session_of("acceptor")
    inspector = session_of(f"inspector-{street.code}")
    # The shift leader watches inspectors (tracking.monitor); an acceptor sees none around.
    session_of_leader = session_of("shiftleader")
    case = api(
        base,
        acceptor,
        "/api/v1/cases",
        {
            "source": "hotline",
            "kind": "event",
            "category": "0102",
            "description": "路边暴露垃圾",
            "lon": lon,
            "lat": lat,
        },
    )
    assert (
        api(base, acceptor, f"/api/v1/cases/{case['id']}/actions/accept", {"version": 1})["state"]
        == "to_verify"
    )
    there = moved(lon, lat, 30.0)
    t = (timezone.now() - dt.timedelta(seconds=20)).replace(microsecond=0).isoformat()
    sent = api(
        base,
        inspector,
        "/api/v1/tracking/fixes",
        {"fixes": [{"t": t, "lon": there[0], "lat": there[1]}]},
    )
    assert sent["accepted"] == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, session_of_leader)
        page.click("button[data-box='to_verify']")
        row = page.locator(f"#cases tr[data-id='{case['id']}']")
        row.wait_for()
        row.click()
        page.wait_for_selector("#detail .nearby ul[data-nearby='inspectors'] li")
        around = page.locator("#detail .nearby ul[data-nearby='inspectors']").inner_text()
        assert f"{street.name}监督员" in around and "在线" in around and "30 米" in around
        page.screenshot(path=str(ARTIFACTS / "console-nearby.png"))
        button = page.locator("#detail button[data-send-nearest]")
        button.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail h3:has-text('核实中')")
        assert f"{street.name}监督员" in page.locator("#toast").inner_text()
        assert errors == []
        browser.close()
    task = CaseTask.objects.get(case_id=case["id"], kind="verify")
    assert task.assignee.get_username() == f"inspector-{street.code}"
