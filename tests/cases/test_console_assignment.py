"""Automatic assignment in the console, end to end in headless Chromium against the real
gunicorn: the acceptor goes on duty with the header's button, an inspector's report arrives in
their 待受理 by itself (the round after the report's commit, in the server), 交班 hands it back;
the shift leader sees it in 待分配 and assigns it by hand from the detail."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.cases.conftest import inside
from tests.cases.test_console_page import (  # noqa: F401 - servers is a fixture
    ARTIFACTS,
    api,
    box_count,
    open_console,
    servers,
    session_of,
)
from tests.tiles.test_map_page import ARGS, CHROMIUM


def put(base: str, session: str, path: str, body: dict) -> dict:
    answer = requests.put(
        base + path,
        json=body,
        cookies={"sessionid": session, "csrftoken": "x" * 32},
        headers={"X-CSRFToken": "x" * 32, "Referer": base + "/console"},
        timeout=30,
    )
    assert answer.ok, (path, answer.status_code, answer.text)
    return answer.json()


def wait_for_count(page, key: str, expected: int, timeout_ms: int = 15000) -> None:
    page.wait_for_function(
        "([key, n]) => { const b = document.querySelector(`button[data-box='${key}'] .count`);"
        " return b && Number(b.textContent) === n; }",
        arg=[key, expected],
        timeout=timeout_ms,
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_duty_assignment_hand_over_and_assigning_by_hand(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from accounts.models import Person

    base = servers
    street = two_streets[0]
    acceptor_id = Person.objects.get(user__username="acceptor").user_id
    sessions = {
        name: session_of(name) for name in ("acceptor", "shiftleader", f"inspector-{street.code}")
    }
    put(base, sessions["shiftleader"], "/api/v1/cases/assignment",
        {"mode": "balanced", "max_load": 5, "returned_to_acceptor": True})  # fmt: skip
    put(base, sessions["shiftleader"], f"/api/v1/cases/assignment/seats/{acceptor_id}",
        {"auto_assign": True, "position": 0})  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, sessions["acceptor"])
        duty = page.locator("#duty")
        duty.wait_for(state="visible")
        assert duty.inner_text().startswith("未上岗")
        assert box_count(page, "to_accept") == 0
        duty.focus()
        page.keyboard.press("Enter")  # keyboard-usable: 上岗
        page.wait_for_function(
            "() => document.querySelector('#duty').textContent.startsWith('在岗')"
        )

        lon, lat = inside(street)
        made = api(base, sessions[f"inspector-{street.code}"], "/api/v1/cases",
                   {"source": "inspector", "kind": "event", "category": "0102",
                    "description": "人行道上有暴露垃圾", "lon": lon, "lat": lat})  # fmt: skip
        assert made["acceptor"] is None  # the round runs after the commit
        wait_for_count(page, "to_accept", 1)  # the live stream refreshes the boxes
        page.click("button[data-box='to_accept']")
        page.wait_for_selector(f"#cases tr[data-id='{made['id']}']")
        page.screenshot(path=str(ARTIFACTS / "console-assignment-on-duty.png"))

        page.click("#duty")  # 交班
        page.wait_for_function(
            "() => document.querySelector('#duty').textContent.startsWith('未上岗')"
        )
        wait_for_count(page, "to_accept", 0)

        leader, _ = open_console(browser, base, sessions["shiftleader"])
        wait_for_count(leader, "to_assign", 1)
        leader.click("button[data-box='to_assign']")
        leader.click(f"#cases tr[data-id='{made['id']}']")
        leader.wait_for_selector("#assign-to")
        leader.select_option("#assign-to", str(acceptor_id))
        leader.click("#assign-section button")
        wait_for_count(leader, "to_assign", 0)
        leader.screenshot(path=str(ARTIFACTS / "console-assignment-leader.png"))
        case = api(base, sessions["shiftleader"], f"/api/v1/cases/{made['id']}")
        assert case["acceptor"] == acceptor_id
        history = api(base, sessions["shiftleader"], f"/api/v1/cases/{made['id']}/history")
        assigned = [e for e in history["events"] if e["action"] in ("assign", "hand_over")]
        assert [e["action"] for e in assigned] == ["assign", "hand_over", "assign"]
        browser.close()
    assert not errors, errors
