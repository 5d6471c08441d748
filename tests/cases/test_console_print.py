"""Printing from the console (打印) in headless Chromium: a case's detail links to its sheet with
and without the history, and the list's 打印 prints the current box, a long list through a job
on the Celery worker that the page follows until the file opens in a new tab."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cases.scattered import scatter_cases
from tests.cases.test_console_page import open_console, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS, CHROMIUM


@pytest.fixture
def long_lists_are_jobs(monkeypatch):
    """The servers started after this print at most 2 cases in the request."""
    monkeypatch.setenv("CITYGRID_CASES_PRINT_DIRECT", "2")


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages).replace(" ", "")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_console_prints_a_case_and_its_box(
    long_lists_are_jobs,
    servers,  # noqa: F811 (the console test's fixture: gunicorn, the stream server, a worker)
    org,
    two_streets,
):
    from playwright.sync_api import sync_playwright

    from cases.models import Case

    scattered = scatter_cases(org, two_streets)
    reported = list(
        Case.objects.filter(state="reported").order_by("-reported_at").values_list("number", "pk")
    )
    assert len(reported) == 10 and len(scattered.in_a) + len(scattered.in_b) == 13
    base = servers
    session = session_of("acceptor")  # before Playwright: the ORM refuses inside its loop
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_console(browser, base, session)
        assert page.locator("button[data-box='to_accept'] .count").inner_text() == "10"

        # A case's detail: 打印 and 打印（含办理经过）.
        number, case_id = reported[0]
        page.click(f"#cases tr[data-id='{case_id}']")
        page.wait_for_selector("#detail .print-links a")
        links = page.locator("#detail .print-links a")
        assert links.all_inner_texts() == ["打印", "打印（含办理经过）"]
        assert links.nth(1).get_attribute("target") == "_blank"
        with_history = page.request.get(base + links.nth(1).get_attribute("href"))
        assert with_history.status == 200
        assert with_history.headers["content-type"] == "application/pdf"
        text = pdf_text(with_history.body())
        assert number in text and "办理经过" in text and "上报" in text
        plain = pdf_text(page.request.get(base + links.nth(0).get_attribute("href")).body())
        assert number in plain and "办理经过" not in plain

        # The list's 打印: 10 cases in 待受理 are more than 2, so a job; its file opens in a tab.
        with page.context.expect_page(timeout=60_000) as opened:
            page.click("#print-list")
        tab = opened.value
        tab.wait_for_url(lambda url: "/api/v1/cases/prints/" in url, timeout=60_000)
        page.wait_for_selector("#toast:has-text('共 10 件')", state="attached")
        printed = page.request.get(tab.url)
        assert printed.headers["content-type"] == "application/pdf"
        text = pdf_text(printed.body())
        assert "案件箱：待受理" in text and "共10件" in text
        assert {n for n, _ in reported if n in text} == {n for n, _ in reported}
        assert not errors, errors
        browser.close()
