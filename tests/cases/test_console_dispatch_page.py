"""The console's dispatch form with modes (派遣方式) end to end in headless Chromium: the
dispatcher picks 并行派遣 and two departments with the keyboard, dispatches, and the detail shows
each department's progress; after one department's feedback the row says so while the case
waits in handling for the other."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.cases.test_console_page import (  # noqa: F401 - servers is a fixture
    ARTIFACTS,
    api,
    open_console,
    servers,
    session_of,
)
from tests.tiles.test_map_page import ARGS, CHROMIUM


def progress_rows(page, ready, timeout_s: float = 15.0) -> list[list[str]]:
    """The cells of the detail's 派遣进度 rows, read in one go (a live refresh may redraw the
    detail between two reads), once `ready(rows)` holds."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = page.evaluate(
            "() => [...document.querySelectorAll('.dispatch-progress tbody tr')]"
            ".map((tr) => [...tr.cells].map((td) => td.textContent))"
        )
        if ready(rows):
            return rows
        assert time.monotonic() < deadline, rows
        page.wait_for_timeout(200)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_a_parallel_dispatch_from_the_console(servers, as_user, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.cases.test_notifications import to_dispatch

    base = servers
    cid = to_dispatch(as_user, two_streets[0])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sessions = {name: session_of(name) for name in ("dispatcher", "dept-shizheng")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, sessions["dispatcher"])
        page.click("button[data-box='to_dispatch']")
        page.click(f"#cases tr[data-id='{cid}']")
        page.click("#detail button[data-action='dispatch']")
        # The manual's department is offered first and as one click.
        page.wait_for_selector("#action-form .one-click-button")
        assert "环境卫生服务中心" in page.locator("#action-form .one-click-button").inner_text()
        assert page.locator("#action-form fieldset[data-field='departments']").is_hidden()

        page.select_option("select[name='mode']", "parallel")
        several = page.locator("#action-form fieldset[data-field='departments']")
        several.wait_for(state="visible")
        assert page.locator("select[name='department']").is_hidden()
        for code in ("H-shizheng", "H-huanwei"):
            box = several.locator(f"input[value='{code}']")
            box.focus()
            page.keyboard.press("Space")  # keyboard-usable
            assert box.is_checked()
        page.fill("#action-form textarea[name='opinion']", "路面与垃圾分别处置")
        page.screenshot(path=str(ARTIFACTS / "console-dispatch-form.png"))
        page.get_by_role("button", name="确认派遣").click()
        page.wait_for_selector(".dispatch-progress h2:has-text('并行派遣')")
        rows = progress_rows(page, lambda rows: len(rows) == 2)
        assert {r[0] for r in rows} == {"市政管理委员会", "环境卫生服务中心"}
        assert all(r[1] == "处置中" for r in rows)
        case = api(base, sessions["dispatcher"], f"/api/v1/cases/{cid}")
        assert case["state"] == "handling" and case["dispatch_mode"] == "parallel"

        # One department feeds back: its row says so, the case waits for the other.
        api(
            base,
            sessions["dept-shizheng"],
            f"/api/v1/cases/{cid}/actions/feedback",
            {"version": case["version"], "opinion": "路面已修复"},
        )
        page.click("button[data-box='handling']")
        page.click(f"#cases tr[data-id='{cid}']")
        rows = progress_rows(page, lambda rows: any("已反馈" in r[1] for r in rows))
        by_name = {r[0]: r for r in rows}
        assert by_name["市政管理委员会"][1].startswith("已反馈")
        assert by_name["市政管理委员会"][4] == "路面已修复"
        assert by_name["环境卫生服务中心"][1] == "处置中"
        assert api(base, sessions["dispatcher"], f"/api/v1/cases/{cid}")["state"] == "handling"
        page.screenshot(path=str(ARTIFACTS / "console-parallel-dispatch.png"))

        # 改派 of the parallel case offers only the share still handling.
        page.click("#detail button[data-action='redispatch']")
        replace = page.locator("#action-form select[name='replace']")
        replace.wait_for()
        page.wait_for_function(
            "() => document.querySelector(\"#action-form select[name='replace']\").options.length"
        )
        codes = replace.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
        assert codes == ["H-huanwei"]
        assert page.locator("#action-form select[name='mode']").is_hidden()
        assert errors == []
        browser.close()
