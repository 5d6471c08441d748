"""The console's standard phrases (惯用语), supervision (督办), annotations (批注), urgent flag and
"new arrival" counts end to end in headless Chromium: the shift leader keeps a phrase of their
own, edits it, supervises a case in handling with it, annotates it and marks it urgent; the department,
whose 处置中 box shows the case as new, replies to the supervision from its console."""

from __future__ import annotations

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

MY_PHRASE = "请于今日下班前处置完毕并回复。"
EDITED = "请于今日下班前处置完毕，并拍照回复。"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_phrases_supervision_and_a_reply_through_the_console(servers, as_user, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.cases.test_main_path import act
    from tests.cases.test_notifications import to_dispatch

    base = servers
    cid = to_dispatch(as_user, two_streets[0])
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sessions = {name: session_of(name) for name in ("shiftleader", "dept-huanwei")}
    leader_session = sessions["shiftleader"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        leader, leader_errors = open_console(browser, base, leader_session)
        leader.click("button[data-box='handling']")
        leader.click(f"#cases tr[data-id='{cid}']")

        # 督办: the system phrases are offered; the leader keeps their own text as a phrase.
        leader.click("#detail button[data-action='supervise']")
        phrases = leader.locator("#action-form .phrases[data-phrases='supervise']")
        phrases.locator("button[data-phrase]").first.wait_for()
        system = phrases.locator("button[data-phrase]").all_inner_texts()
        assert "该案件即将超期，请加快处置并及时反馈。" in system
        leader.fill("textarea[name='note']", MY_PHRASE)
        leader.get_by_role("button", name="＋存为我的惯用语").click()
        phrases.locator("button.mine").wait_for()
        assert phrases.locator("button[data-phrase]").first.inner_text() == MY_PHRASE
        leader.screenshot(path=str(ARTIFACTS / "console-phrases.png"))
        mine = api(base, leader_session, "/api/v1/cases/phrases?action=supervise")["phrases"]
        assert [(x["text"], x["personal"]) for x in mine][0] == (MY_PHRASE, True)
        # Edited in place with the keyboard: Enter saves.
        leader.get_by_role("button", name=f"修改我的惯用语：{MY_PHRASE}").click()
        leader.fill("input[aria-label='修改惯用语']", EDITED)
        leader.press("input[aria-label='修改惯用语']", "Enter")
        leader.wait_for_selector(f"#action-form .phrases button.mine:has-text('{EDITED}')")
        mine = api(base, leader_session, "/api/v1/cases/phrases?action=supervise")["phrases"]
        assert [(x["text"], x["personal"]) for x in mine][0] == (EDITED, True)
        assert MY_PHRASE not in str(mine)
        leader.fill("textarea[name='note']", "")
        phrases.locator("button.mine").click()  # the phrase fills the box
        assert leader.input_value("textarea[name='note']") == EDITED
        leader.get_by_role("button", name="提交督办").click()
        leader.wait_for_selector(".supervisions li:has-text('未回复')")
        assert EDITED in leader.locator(".supervisions").inner_text()

        # 批注 with a system phrase, and 设为急件: both in the history.
        leader.click("#detail button[data-action='annotate']")
        note = leader.locator("#action-form .phrases[data-phrases='annotate'] button[data-phrase]")
        note.first.click()
        picked = leader.input_value("textarea[name='note']")
        assert picked
        leader.get_by_role("button", name="提交批注").click()
        leader.wait_for_selector(f".timeline li:has-text('批注'):has-text('{picked}')")
        leader.click("#detail button[data-action='urgent']")
        leader.wait_for_selector("#detail button[data-action='urgent']:has-text('取消急件')")
        leader.wait_for_selector(".timeline li:has-text('修改（急件）')")
        leader.wait_for_selector(f"#cases tr[data-id='{cid}'] .urgent")
        leader.screenshot(path=str(ARTIFACTS / "console-supervision.png"))

        # The phrase is deleted from the form again (a person keeps their own list).
        leader.click("#detail button[data-action='supervise']")
        leader.get_by_role("button", name=f"删除我的惯用语：{EDITED}").click()
        leader.wait_for_selector("#toast:has-text('已删除惯用语')")
        phrases.locator("button.mine").wait_for(state="detached")
        assert phrases.locator("button[data-phrase]").count() == len(system)
        left = api(base, leader_session, "/api/v1/cases/phrases?action=supervise")["phrases"]
        assert not any(x["personal"] for x in left)

        # The department: its 处置中 box shows the case as new until the box is opened.
        department, department_errors = open_console(browser, base, sessions["dept-huanwei"])
        badge = department.locator("button[data-box='handling'] .new")
        assert badge.inner_text() == "新1"
        department.screenshot(path=str(ARTIFACTS / "console-new-arrivals.png"))
        department.click("button[data-box='handling']")
        department.wait_for_selector(f"#cases tr[data-id='{cid}']")
        department.wait_for_function(
            "() => !document.querySelector(\"button[data-box='handling'] .new\")"
        )
        boxes = api(base, sessions["dept-huanwei"], "/api/v1/cases/boxes")["boxes"]
        assert [b["new"] for b in boxes if b["key"] == "handling"] == [0]

        department.click(f"#cases tr[data-id='{cid}']")
        assert department.locator("#detail button[data-action='supervise']").count() == 0
        department.click("#detail button[data-action='reply_supervision']")
        department.locator(
            "#action-form .phrases[data-phrases='reply_supervision'] button[data-phrase]"
        ).first.click()
        reply = department.input_value("textarea[name='reply']")
        assert reply
        department.get_by_role("button", name="提交督办回复").click()
        department.wait_for_selector(f".supervisions .reply:has-text('{reply}')")
        department.wait_for_selector(".timeline li:has-text('督办回复')")
        department.screenshot(path=str(ARTIFACTS / "console-supervision-reply.png"))
        listed = api(base, leader_session, f"/api/v1/cases/{cid}/supervisions")["supervisions"]
        assert [(s["note"], s["reply"]) for s in listed] == [(EDITED, reply)]
        assert leader_errors == [] and department_errors == []
        browser.close()
