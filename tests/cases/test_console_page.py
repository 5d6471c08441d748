"""The dispatcher console (/console) end to end in headless Chromium: gunicorn and the stream
server on the test database; an acceptor registers a case from a map click, it arrives in the
shift leader's and the dispatcher's boxes live, is dispatched from the page, fed back by the
department, checked and closed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.tiles.test_map_page import ARGS, CHROMIUM, ROOT, free_port

ARTIFACTS = ROOT / "var" / "test-artifacts"


def _start(command: list[str], env: dict, url: str) -> subprocess.Popen:
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(150):
        try:
            requests.get(url, timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.terminate()
    pytest.fail(f"{command[0]} did not start")


@pytest.fixture
def servers(org, django_db_blocker):
    """Gives the web base URL, with gunicorn and uvicorn (the stream server) running."""
    from django.conf import settings

    if not (ROOT / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.js").exists():
        pytest.fail("node_modules/maplibre-gl missing: run scripts/install.sh (npm ci)")
    port, stream_port = free_port(), free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": settings.DATABASES["default"]["NAME"],
        "CITYGRID_CACHE_PREFIX": settings.DATABASES["default"]["NAME"] + "-live",
        "CITYGRID_EVENTS_PREFIX": settings.CITYGRID_EVENTS_PREFIX,
        "CITYGRID_DEBUG": "1",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_PORT": str(port),
        "CITYGRID_STREAM_PORT": str(stream_port),
    }
    bin_dir = Path(sys.executable).parent
    base = f"http://127.0.0.1:{port}"
    web = _start(
        [
            str(bin_dir / "gunicorn"),
            "web.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        env,
        base + "/api/v1/health",
    )
    streams = _start(
        [
            str(bin_dir / "uvicorn"),
            "web.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(stream_port),
            "--log-level",
            "warning",
        ],
        env,
        f"http://127.0.0.1:{stream_port}/api/v1/health",
    )
    # A Celery worker on this test database's queue delivers the notifications.
    worker = subprocess.Popen(
        [
            str(bin_dir / "celery"),
            "-A",
            "web",
            "worker",
            "--pool",
            "solo",
            "-l",
            "warning",
            "-Q",
            env.get("CITYGRID_CELERY_QUEUE", settings.DATABASES["default"]["NAME"]),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield base
    finally:
        for proc in (web, streams, worker):
            proc.terminate()
            proc.wait(timeout=20)


def session_of(username: str) -> str:
    from django.conf import settings
    from django.test import Client

    from accounts.models import Person

    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def api(base: str, session: str, path: str, body: dict | None = None) -> dict:
    """Calls the API as the person of `session` (with the CSRF pair a page would send)."""
    cookies = {"sessionid": session, "csrftoken": "x" * 32}
    headers = {"X-CSRFToken": "x" * 32, "Referer": base + "/console"}
    if body is None:
        answer = requests.get(base + path, cookies=cookies, timeout=30)
    else:
        answer = requests.post(base + path, json=body, cookies=cookies, headers=headers, timeout=30)
    assert answer.ok, (path, answer.status_code, answer.text)
    return answer.json()


def box_count(page, key: str) -> int:
    return int(page.locator(f"button[data-box='{key}'] .count").inner_text())


def open_console(browser, base: str, session: str):
    context = browser.new_context(viewport={"width": 1440, "height": 860}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/console")
    page.wait_for_selector("#box-list button")
    page.wait_for_function(
        "() => document.querySelector('#live').classList.contains('on')", timeout=15000
    )
    page.wait_for_function("() => window.consoleMap && window.consoleMap.loaded()", timeout=60000)
    return page, errors


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_a_case_goes_from_a_map_click_to_closed_through_the_console(servers, two_streets):
    from playwright.sync_api import sync_playwright

    from tests.cases.conftest import inside

    base = servers
    street = two_streets[0]
    lon, lat = inside(street)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Sessions first: the ORM may not run inside Playwright's event loop.
    inspector = f"inspector-{street.code}"
    people = ["dispatcher", "acceptor", "shiftleader", "dept-huanwei", inspector]
    sessions = {name: session_of(name) for name in people}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        dispatcher, dispatcher_errors = open_console(browser, base, sessions["dispatcher"])
        assert box_count(dispatcher, "to_dispatch") == 0
        acceptor, acceptor_errors = open_console(browser, base, sessions["acceptor"])

        # The acceptor clicks the map where the problem is and registers it there.
        acceptor.evaluate(f"() => window.consoleMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
        acceptor.wait_for_function("() => window.consoleMap.loaded()", timeout=30000)
        box = acceptor.locator("#map").bounding_box()
        acceptor.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        acceptor.get_by_role("button", name="在此登记案件").click()
        acceptor.select_option("select[name='source']", "inspector")
        acceptor.select_option("select[name='kind']", "event")
        acceptor.wait_for_selector("select[name='category'] option[value='0102']", state="attached")
        acceptor.select_option("select[name='category']", "0102")
        acceptor.fill("textarea[name='description']", "路口东侧暴露垃圾，约两平方米")
        with acceptor.expect_response(lambda r: r.url.endswith("/api/v1/cases")) as made:
            acceptor.get_by_role("button", name="登记", exact=True).click()
        assert made.value.status == 201, made.value.text()
        case = made.value.json()
        assert case["placement"]["street"]["code"] == street.code
        acceptor.wait_for_selector("#detail button[data-action='accept']")
        acceptor.screenshot(path=str(ARTIFACTS / "console-acceptor.png"))
        acceptor.click("#detail button[data-action='accept']")
        acceptor.fill("#action-form textarea", "信息完整，予以受理。")
        acceptor.get_by_role("button", name="确认受理").click()
        acceptor.wait_for_selector("#detail h3:has-text('待立案')")

        # The shift leader registers it (API); it arrives in the dispatcher's box within 5 s.
        leader = sessions["shiftleader"]
        tree = api(base, leader, "/api/v1/categories?kind=event")["categories"]
        minor = next(m for major in tree for m in major["children"] if m["code"] == "0102")
        api(
            base,
            leader,
            f"/api/v1/cases/{case['id']}/actions/register",
            {"version": 2, "condition": minor["register_conditions"][0]["id"]},
        )
        started = time.monotonic()
        dispatcher.wait_for_function(
            "() => document.querySelector(\"button[data-box='to_dispatch'] .count\").textContent === '1'",
            timeout=5000,
        )
        arrived_in = time.monotonic() - started
        assert arrived_in < 5

        # The dispatcher opens it from the box and dispatches to the recommended department.
        dispatcher.click("button[data-box='to_dispatch']")
        dispatcher.wait_for_selector(f"#cases tr[data-id='{case['id']}']")
        dispatcher.click(f"#cases tr[data-id='{case['id']}']")
        dispatcher.click("#detail button[data-action='dispatch']")
        dispatcher.wait_for_selector(
            "select[name='department'] option:has-text('推荐')", state="attached"
        )
        recommended = dispatcher.locator("select[name='department']").input_value()
        assert recommended == "H-huanwei"
        dispatcher.get_by_role("button", name="确认派遣").click()
        dispatcher.wait_for_selector("#detail h3:has-text('处置中')")
        dispatcher.screenshot(path=str(ARTIFACTS / "console-dispatcher.png"))

        # The department feeds back from its console; check and close follow.
        # The dispatch reaches the department as a notice, delivered by the worker.
        for _ in range(100):
            if api(base, sessions["dept-huanwei"], "/api/v1/notifications")["unread"]:
                break
            time.sleep(0.2)
        department, department_errors = open_console(browser, base, sessions["dept-huanwei"])
        department.wait_for_function(
            "() => Number(document.querySelector('#bell-count').textContent) >= 1", timeout=10000
        )
        department.click("#bell")
        assert "新派遣案件" in department.locator("#notices").inner_text()
        department.keyboard.press("Escape")
        department.click("button[data-box='handling']")
        department.click(f"#cases tr[data-id='{case['id']}']")
        # It asks for 8 more working hours; the shift leader approves from the approvals box.
        before = api(base, sessions["dept-huanwei"], f"/api/v1/cases/{case['id']}")
        department.click("#detail button[data-action='apply']")
        department.select_option("select[name='kind']", "extension")
        department.fill("input[name='amount']", "8")
        department.fill("textarea[name='reason']", "需协调清运车辆")
        department.get_by_role("button", name="提交申请").click()
        department.wait_for_selector("#toast:has-text('已提交')")
        approver, approver_errors = open_console(browser, base, sessions["shiftleader"])
        approver.wait_for_selector("button[data-box='approvals'] .count:has-text('1')")
        approver.click("button[data-box='approvals']")
        approver.click("#cases tr[data-application]")
        approver.wait_for_selector("select[name='decision']")
        approver.fill("textarea[name='opinion']", "同意延期")
        approver.get_by_role("button", name="提交审批").click()
        approver.wait_for_selector("#toast:has-text('已同意')")
        approver.screenshot(path=str(ARTIFACTS / "console-approval.png"))
        after = api(base, sessions["dept-huanwei"], f"/api/v1/cases/{case['id']}")
        assert after["handling_deadline"] > before["handling_deadline"]
        department.click(f"#cases tr[data-id='{case['id']}']")
        department.wait_for_selector(".timeline li:has-text('批准延期')")  # the fresh case
        department.click("#detail button[data-action='feedback']")
        department.fill("#action-form textarea", "已清运完毕")
        department.get_by_role("button", name="确认处置反馈").click()
        department.wait_for_selector("#detail h3:has-text('待核查')")
        assert department.locator("#detail dt:has-text('反映人')").count() == 0

        path = f"/api/v1/cases/{case['id']}"
        version = api(base, sessions["acceptor"], path)["version"]
        api(base, sessions["acceptor"], f"{path}/actions/request_check", {"version": version})
        check = {"version": version + 1, "passed": True}
        api(base, sessions[inspector], f"{path}/actions/check", check)
        closer, closer_errors = open_console(browser, base, sessions["shiftleader"])
        closer.click("button[data-box='to_close']")
        closer.click(f"#cases tr[data-id='{case['id']}']")
        closer.click("#detail button[data-action='close']")
        closer.wait_for_selector("select[name='condition'] option", state="attached")
        closer.get_by_role("button", name="确认结案").click()
        closer.wait_for_selector("#detail h3:has-text('已结案')")
        closer.screenshot(path=str(ARTIFACTS / "console-closed.png"))
        history = closer.locator(".timeline li").all_inner_texts()
        assert len(history) == 10  # the main path's 8 and the extension's application and answer
        every = (
            dispatcher_errors,
            acceptor_errors,
            department_errors,
            approver_errors,
            closer_errors,
        )
        for errors in every:
            assert errors == []
        browser.close()
