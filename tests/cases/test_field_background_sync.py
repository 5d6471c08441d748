"""Background Sync in the field app, end to end in headless Chromium: a report queued while
the phone is offline is sent by the service worker when the browser fires the sync event —
with the app's page closed. The browser's own sync event is fired through the DevTools
protocol (ServiceWorker.dispatchSyncEvent), as Chromium does when the network comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.cases.conftest import inside
from tests.cases.test_console_page import servers, session_of  # noqa: F401
from tests.cases.test_field_app import PHONE
from tests.tiles.test_map_page import ARGS, CHROMIUM

DESCRIPTION = "后台同步：人行道上有一堆建筑垃圾"


def mine(base: str, session: str) -> list[dict]:
    answer = requests.get(
        base + "/api/v1/cases", {"q": "后台同步"}, cookies={"sessionid": session}, timeout=30
    )
    assert answer.ok, answer.text
    return answer.json()["features"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_outbox_with_the_app_closed(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from cases.models import Case

    base = servers
    street = two_streets[0]
    username = f"inspector-{street.code}"
    session = session_of(username)
    lon, lat = inside(street)
    assert not Case.objects.filter(description=DESCRIPTION).exists()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/m/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
        # The page stores who is signed in for the worker before anything is queued.
        page.wait_for_function(
            "() => window.FieldOutbox && window.FieldOutbox.loadSession()"
            ".then(s => s !== null && s.csrf.length > 0)",
            timeout=15000,
        )
        context.set_offline(True)
        page.evaluate(
            """([lon, lat, text]) => window.FieldOutbox.add({kind: 'report', title: text,
                 body: {source: 'inspector', kind: 'event', category: '0102', description: text,
                        lon: lon, lat: lat, report_key: window.FieldOutbox.uuid()}})""",
            [lon, lat, DESCRIPTION],
        )
        # The page tries at once, meets no network and keeps the report waiting.
        page.wait_for_function(
            "() => window.FieldOutbox.items().then(i => i.length === 1 && i[0].status === 'queued'"
            " && i[0].attempts >= 1)"
        )
        tags = page.evaluate("() => navigator.serviceWorker.ready.then(r => r.sync.getTags())")
        assert "citygrid-outbox" in tags  # the page asked the browser for a sync
        page.close()  # the app is closed; its worker stays registered

        helper = context.new_page()  # about:blank: outside the worker's scope, no client
        cdp = context.new_cdp_session(helper)
        registrations: list[str] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.extend(
                r["registrationId"] for r in e["registrations"] if r["scopeURL"].endswith("/m/")
            ),
        )
        cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + 10
        while not registrations and time.monotonic() < deadline:
            helper.wait_for_timeout(100)
        assert registrations, "the field app's worker is not registered"
        context.set_offline(False)
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": base,
                "registrationId": registrations[0],
                "tag": "citygrid-outbox",
                "lastChance": False,
            },
        )
        deadline = time.monotonic() + 30
        while not mine(base, session):  # the ORM may not run inside Playwright's loop
            assert time.monotonic() < deadline, "the worker did not send the queued report"
            time.sleep(0.3)
        browser.close()
    case = Case.objects.get(description=DESCRIPTION)
    assert case.reported_by.username == username and case.report_key is not None
    assert errors == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_a_clock_in_made_offline_arrives_with_the_phones_time(servers, two_streets, tmp_path):  # noqa: F811
    """离线打卡 in the app: in a dead zone the clock is queued with the phone's time; when the
    network returns it is sent and listed as made offline."""
    import datetime as dt

    from playwright.sync_api import sync_playwright

    from accounts.models import Person
    from tests.cases.test_field_app import jpeg
    from tracking.models import Tracker

    base = servers
    street = two_streets[0]
    username = f"inspector-{street.code}"
    Tracker.objects.create(
        device_id="PHONE-CLOCK", kind="person", person=Person.objects.get(user__username=username)
    )
    session = session_of(username)
    lon, lat = inside(street)
    picture = tmp_path / "clock.jpg"
    picture.write_bytes(jpeg((100, 120, 140)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
            permissions=["geolocation"],
        )
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/m/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
        page.click("#tabs button[data-tab='me']")
        context.set_offline(True)
        before = dt.datetime.now(dt.timezone.utc)
        page.set_input_files("input[name='photo']", str(picture))
        page.wait_for_selector(".thumbs[data-for='photo'] img")
        page.get_by_role("button", name="上班打卡").click()
        page.wait_for_function(
            "() => window.FieldOutbox.items().then(i => i.some(x => x.kind === 'clock'"
            " && x.status === 'queued'))"
        )
        page.wait_for_timeout(1500)  # the record keeps the phone's time, not the sending time
        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_function(
            "() => window.FieldOutbox.items().then(i => i.some(x => x.kind === 'clock'"
            " && x.status === 'sent'))",
            timeout=30000,
        )
        page.click("#tabs button[data-tab='map']")
        page.click("#tabs button[data-tab='me']")
        browser.close()
    clocks = requests.get(
        base + "/api/v1/tracking/clocks", cookies={"sessionid": session}, timeout=30
    ).json()["clocks"]
    from tracking.models import ClockRecord

    stored = list(ClockRecord.objects.values("tracker__device_id", "at", "received_at"))
    assert len(clocks) == 1 and clocks[0]["kind"] == "in", (clocks, stored)
    assert clocks[0]["offline"] is True
    at = dt.datetime.fromisoformat(clocks[0]["at"])
    received = dt.datetime.fromisoformat(clocks[0]["received_at"])
    assert before - dt.timedelta(seconds=5) <= at < received
    assert errors == []
