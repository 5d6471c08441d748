"""The console's registration form suggests classes (分类推荐) for the description typed: three
chips under it, a click sets the type and the class. End to end in headless Chromium against
gunicorn on the test database, with a model trained for this test."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.cases.test_console_page import (  # noqa: F401 (servers is a fixture)
    ARTIFACTS,
    open_console,
    servers,
    session_of,
)
from tests.tiles.test_map_page import CHROMIUM, ARGS


@pytest.fixture
def served_model(settings, tmp_path, monkeypatch):
    """A corpus-trained model in a directory of this test's, which the servers read too."""
    settings.CASES_RECOMMEND_DIR = tmp_path / "recommend"
    settings.CASES_RECOMMEND_CORPUS = 2500
    call_command("train_recommend", corpus_only=True, verbosity=0)
    monkeypatch.setenv("CITYGRID_CASES_RECOMMEND_DIR", str(settings.CASES_RECOMMEND_DIR))
    return settings.CASES_RECOMMEND_DIR


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_registration_form_offers_the_likeliest_classes(
    served_model,
    servers,  # noqa: F811 (the console test's fixture: gunicorn, the stream server, a worker)
    two_streets,
):
    from playwright.sync_api import sync_playwright

    from tests.cases.conftest import inside

    base = servers
    lon, lat = inside(two_streets[0])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    session = session_of("acceptor")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, session)
        page.evaluate(f"() => window.consoleMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
        page.wait_for_function("() => window.consoleMap.loaded()", timeout=30000)
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.get_by_role("button", name="在此登记案件").click()
        page.wait_for_selector("select[name='category'] option", state="attached")
        assert page.input_value("select[name='kind']") == "event"

        # Typed as a caller says it: the chips come once typing pauses.
        page.locator("textarea[name='description']").press_sequentially(
            "你好，我家楼下的路灯好几天都不亮了，晚上黑漆漆的", delay=10
        )
        chips = page.locator("[data-recommend]")
        chips.first.wait_for(timeout=15000)
        assert chips.count() == 3
        first = chips.first
        assert first.get_attribute("data-recommend") == "component:0111"
        assert "路灯" in first.inner_text() and "%" in first.inner_text()
        assert "处置部门" in first.get_attribute("title")
        page.screenshot(path=str(ARTIFACTS / "console-recommend.png"))

        # By keyboard: focus the chip and press Enter — the type and class follow.
        first.focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector(\"select[name='category']\").value === '0111'"
        )
        assert page.input_value("select[name='kind']") == "component"
        assert "mine" in (first.get_attribute("class") or "")
        browser.close()
    assert errors == []
