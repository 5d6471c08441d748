"""The comprehensive evaluation page (/evaluation) end to end in headless Chromium over the
demo round: the rankings of this year's cycle by street, an object's scores per indicator, the
sample library on the map and a sampling preview drawn on it; who may open the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from accounts.demo import build_demo_organization
from evaluation.comprehensive.models import EvaluationObject, SamplePoint
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS


@pytest.fixture
def org(city, db, settings, tmp_path):
    """The demo organization and this year's demo evaluation round over the test city."""
    settings.MEDIA_ROOT = tmp_path
    people = build_demo_organization()
    call_command("demo_evaluation", verbosity=0)
    return {p.user.get_username(): p for p in people}


@pytest.mark.django_db
def test_the_page_is_for_evaluators_only(org):
    assert Client().get("/evaluation").status_code == 302  # to the sign-in page
    for username, status in (("evaluator", 200), ("admin", 200), ("acceptor", 403)):
        client = Client()
        client.force_login(org[username].user)
        answer = client.get("/evaluation")
        assert answer.status_code == status, username
        assert "综合评价" in answer.content.decode()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_rankings_scores_and_a_draw_on_the_map(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    streets = EvaluationObject.objects.filter(kind="street").count()
    # The sample type with most samples in the small test city (and its count).
    busiest = (SamplePoint.objects.values_list("sample_type__name").annotate(n=Count("id"))
               .order_by("-n").first())  # fmt: skip
    assert streets > 0 and busiest[1] >= 3
    type_name, available = busiest
    session = session_of("evaluator")  # before Playwright's loop
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/evaluation")
        page.wait_for_selector("#ranking tbody tr[data-object]")
        rows = page.locator("#ranking tbody tr[data-object]")
        assert rows.count() == streets
        assert page.locator("#ranking thead th").all_inner_texts() == [
            "排名", "评价对象", "干净", "整洁", "有序", "群众满意", "特色创新", "总分"]  # fmt: skip
        ranks = [int(t) for t in page.locator("#ranking tbody .rank").all_inner_texts()]
        assert ranks[0] == 1 and ranks == sorted(ranks)

        # Keyboard: focus the first row, Enter shows its scores per indicator.
        rows.first.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#detail .tree li.l3")
        lines = [t.split("\n")[0].split("\t")[0] for t in
                 page.locator("#detail .tree li").all_inner_texts()[1:5]]  # fmt: skip
        assert lines == ["A 干净", "A1 道路清扫保洁", "A1.1 道路机扫率", "A1.2 主次干道清洁"]
        assert "第1名" in page.locator("#detail h3").inner_text()

        # The sample library on the map, then 3 samples of the busiest type drawn.
        page.wait_for_function(
            "() => window.evaluationMap && window.evaluationMap.loaded() && "
            "window.evaluationMap.querySourceFeatures('samples').length > 0",
            timeout=60000,
        )
        page.select_option("#sample-type", label=type_name)
        page.fill("#count", "3")
        page.fill("#distance", "0")
        with page.expect_response(lambda r: r.url.endswith("/sampling/preview")) as drew:
            page.get_by_role("button", name="预览抽样").click()
        assert drew.value.status == 200, drew.value.text()
        page.wait_for_selector("#draw-list li:nth-child(3)")
        assert page.locator("#draw-list li").count() == 3
        assert f"从 {available} 个样本中抽中 3 个" in page.locator("#draw-summary").inner_text()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "evaluation.png"))
        # The same draw again: the same places in the same order.
        first = page.locator("#draw-list li").all_inner_texts()
        page.get_by_role("button", name="预览抽样").click()
        page.wait_for_timeout(800)
        assert page.locator("#draw-list li").all_inner_texts() == first

        # Without advanced indicators the 特色创新 column is all zeros.
        page.uncheck("#advanced")
        page.wait_for_function("() => document.querySelector('#ranking-note').textContent"
                               ".includes('不含提高指标')")  # fmt: skip
        column = page.locator("#ranking tbody tr td:nth-child(7)").all_inner_texts()
        assert set(column) == {"0.0"}
        assert errors == []
        browser.close()
