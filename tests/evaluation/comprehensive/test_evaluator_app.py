"""The evaluator's app (/evaluation/app) end to end in headless Chromium on a phone-sized
screen: the phone's position names the evaluation object, the open tasks are listed, a check
item is scored with a photo and saved as a draft (deduction and distance from the server), the
task is submitted and moves to 已完成; who may open the app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from accounts.scoping import system_scope
from evaluation.comprehensive.inspections import do_create_inspections
from evaluation.comprehensive.models import (
    CheckItem,
    EvaluationCycle,
    Evaluator,
    FieldInspectionScore,
    FieldInspectionTask,
    SamplePoint,
)
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS

from .test_evaluation_page import org  # noqa: F401


@pytest.mark.django_db
def test_the_app_is_for_evaluators_only(org):  # noqa: F811
    assert Client().get("/evaluation/app").status_code == 302
    for username, status in (("evaluator", 200), ("acceptor", 403), ("admin", 403)):
        client = Client()
        client.force_login(org[username].user)
        assert client.get("/evaluation/app").status_code == status, username


@pytest.fixture
def media_dir(tmp_path, monkeypatch):
    """Photos the served app receives go to the test's own directory."""
    monkeypatch.setenv("CITYGRID_MEDIA_DIR", str(tmp_path / "media"))
    return tmp_path


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_an_inspection_from_the_phone(media_dir, servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    evaluator = Evaluator.objects.get(person__user__username="evaluator")
    # Next year's cycle: two road samples for the demo evaluator.
    year = EvaluationCycle.objects.order_by("-year").first().year + 1
    cycle = EvaluationCycle.objects.create(name=f"{year}年度", year=year,
                                           starts_on=dt.date(year, 1, 1),
                                           ends_on=dt.date(year, 12, 31))  # fmt: skip
    roads = list(SamplePoint.objects.filter(sample_type__code="main_road").order_by("id")[:2])
    assert len(roads) == 2
    tasks = do_create_inspections(system_scope("test"), cycle_id=cycle.pk,
                                  evaluator_ids=[evaluator.pk], sample_ids=[r.pk for r in roads])  # fmt: skip
    first_item = CheckItem.objects.filter(sample_type__code="main_road").order_by(
        "sort_order", "id"
    )[0]
    here = roads[0].anchor
    photo = media_dir / "finding.jpg"
    Image.new("RGB", (64, 48), (150, 120, 90)).save(photo, "JPEG")
    session = session_of("evaluator")
    already_finished = FieldInspectionTask.objects.filter(
        evaluator=evaluator, state__in=["submitted", "approved"]
    ).count()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                      geolocation={"longitude": here.x, "latitude": here.y},
                                      permissions=["geolocation"], has_touch=True)  # fmt: skip
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/evaluation/app")
        page.wait_for_function("() => document.querySelector('#here').textContent"
                               ".startsWith('当前位置：')")  # fmt: skip
        assert "海淀区" in page.locator("#here").inner_text()
        page.wait_for_selector(f"button[data-task='{tasks[0].pk}']")
        names = page.locator("#tasks .name").all_inner_texts()
        assert names == [r.name for r in roads]

        page.click(f"button[data-task='{tasks[0].pk}']")
        item = page.locator(f"form[data-item='{first_item.pk}']")
        item.get_by_role("button", name="增加").click()
        item.get_by_role("button", name="增加").click()
        item.locator("input[type=file]").set_input_files(str(photo))
        item.locator("textarea").fill("路边两处暴露垃圾")
        item.get_by_role("button", name="保存此项").click()
        item.locator(".saved").filter(has_text="已保存").wait_for()
        assert page.locator("#task-state").inner_text() == "草稿"
        saved = item.locator(".saved").inner_text()
        expected = min(2 * first_item.deduction, first_item.max_deduction or 1e9)
        assert f"扣 {expected:g} 分" in saved and "距样本 0 米" in saved and "有照片" in saved
        page.screenshot(path=str(ARTIFACTS / "evaluator-app.png"))
        page.get_by_role("button", name="提交审核").click()
        page.wait_for_selector("#task .state.submitted")
        page.get_by_role("tab", name="已完成").click()
        page.wait_for_selector("#tasks li.empty", state="detached")
        page.wait_for_selector(f"button[data-task='{tasks[0].pk}']")
        # Finished: this one (and last year's approved ones), not the other still open.
        assert page.locator(f"button[data-task='{tasks[1].pk}']").count() == 0
        assert page.locator("#tasks li button").count() == already_finished + 1
        assert errors == []
        browser.close()

    task = FieldInspectionTask.objects.get(pk=tasks[0].pk)
    assert task.state == "submitted"
    score = FieldInspectionScore.objects.get(task=task, check_item=first_item)
    assert (score.occurrences, score.note, score.distance_m) == (2, "路边两处暴露垃圾", 0)
    stored = media_dir / "media" / score.photo.name  # where the served app wrote it
    assert stored.read_bytes() == photo.read_bytes()
