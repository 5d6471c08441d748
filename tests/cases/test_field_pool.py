"""The grid task pool (网格任务池) in the field app, end to end in headless Chromium with a phone
viewport against the real gunicorn: a verification sent to the pool shows under 网格任务池 in
the inspector's 任务 tab; 认领 makes it theirs, and it moves to 我的任务 with 反馈."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.conftest import inside
from tests.cases.test_console_page import ARTIFACTS, api, servers, session_of  # noqa: F401
from tests.cases.test_field_app import PHONE
from tests.tiles.test_map_page import ARGS, CHROMIUM


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_an_inspector_claims_a_pooled_task_in_the_field_app(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from cases.models import Case, CaseTask

    base = servers
    street = two_streets[0]
    inspector = f"inspector-{street.code}"
    sessions = {name: session_of(name) for name in ("acceptor", inspector)}
    lon, lat = inside(street)
    made = api(base, sessions["acceptor"], "/api/v1/cases",
               {"source": "hotline", "kind": "event", "category": "0102",
                "description": "小区门口堆放垃圾", "lon": lon, "lat": lat})  # fmt: skip
    assert Case.objects.get(pk=made["id"]).grid_code
    api(base, sessions["acceptor"], f"/api/v1/cases/{made['id']}/actions/accept", {"version": 1})
    pooled = api(base, sessions["acceptor"], f"/api/v1/cases/{made['id']}/actions/request_verify",
                 {"version": 2, "pool": True, "opinion": "请核实"})  # fmt: skip
    assert pooled["state"] == "verifying"
    task = CaseTask.objects.get(case_id=made["id"])
    assert task.assignee_id is None

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.add_cookies([{"name": "sessionid", "value": sessions[inspector], "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/m/")
        page.click("nav button[data-tab='tasks']")
        card = page.locator(f"#pool-list li[data-pool-task='{task.pk}']")
        card.wait_for(timeout=20000)
        assert "暴露垃圾" in card.inner_text() and made["number"] in card.inner_text()
        page.screenshot(path=str(ARTIFACTS / "field-pool.png"))
        card.locator("button.primary").click()
        page.wait_for_selector(f"#task-list li[data-case='{made['id']}']", timeout=20000)
        page.wait_for_function("() => !document.querySelector('#pool-list li')")
        browser.close()
    assert CaseTask.objects.get(pk=task.pk).assignee.username == inspector
    assert not errors, errors
