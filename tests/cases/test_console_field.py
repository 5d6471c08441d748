"""The console's field paths end to end in headless Chromium: an inspector reports a problem
fixed on the spot (自行处置) from a map click with photos before and after (refused without the
after photo); the acceptor archives it from the box 自行处置, seeing both; asks the reporting
inspector for a supplementary collection (补采) with the inspector picker; the inspector answers
from their 待补采 box with a photo and the case is back in the acceptor's 待受理."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.test_console_page import (  # noqa: F401 (servers is a fixture)
    ARTIFACTS,
    api,
    box_count,
    open_console,
    servers,
    session_of,
)
from tests.tiles.test_map_page import ARGS, CHROMIUM


def png(color: tuple[int, int, int]) -> bytes:
    """A real 64×48 picture of one colour (the page shows it)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "PNG")
    return out.getvalue()


BEFORE, AFTER, NEAR = png((170, 90, 40)), png((90, 170, 90)), png((60, 90, 170))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_self_handling_and_a_supplement_through_the_console(servers, two_streets):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.cases.conftest import inside

    base = servers
    street = two_streets[0]
    lon, lat = inside(street)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    inspector = f"inspector-{street.code}"
    sessions = {name: session_of(name) for name in ("acceptor", inspector)}
    body = {"source": "inspector", "kind": "event", "category": "0102", "lon": lon, "lat": lat}
    reported = api(base, sessions[inspector], "/api/v1/cases", {**body, "description": "井边垃圾"})

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # The inspector reports a fixed problem from a map click, with both photos.
        field, field_errors = open_console(browser, base, sessions[inspector])
        field.evaluate(f"() => window.consoleMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
        field.wait_for_function("() => window.consoleMap.loaded()", timeout=30000)
        box = field.locator("#map").bounding_box()
        field.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        field.get_by_role("button", name="在此登记案件").click()
        field.check("input[name='self_handled']")
        assert field.locator("select[name='source']").is_disabled()
        field.wait_for_selector("select[name='category'] option[value='0102']", state="attached")
        field.select_option("select[name='category']", "0102")
        field.fill("textarea[name='description']", "路边少量垃圾，已随手清理")
        photo = {"name": "before.png", "mimeType": "image/png", "buffer": BEFORE}
        field.set_input_files("input[name='before']", files=[photo])
        field.get_by_role("button", name="登记", exact=True).click()  # no after photo yet
        field.wait_for_selector("#detail p.error:has-text('请上传处置后照片')")
        photo = {"name": "after.png", "mimeType": "image/png", "buffer": AFTER}
        field.set_input_files("input[name='after']", files=[photo])
        field.screenshot(path=str(ARTIFACTS / "console-self-handled-report.png"))
        with field.expect_response(lambda r: r.url.endswith("/cases/self-handled")) as made:
            field.get_by_role("button", name="登记", exact=True).click()
        assert made.value.status == 201, made.value.text()
        fixed = made.value.json()
        assert fixed["state"] == "to_review" and fixed["self_handled"] is True
        field.wait_for_selector("#detail h3:has-text('待审核')")

        acceptor, acceptor_errors = open_console(browser, base, sessions["acceptor"])

        # The self-handled case waits in 自行处置 with its photos before and after; archived.
        assert box_count(acceptor, "to_review") == 1
        acceptor.click("button[data-box='to_review']")
        acceptor.click(f"#cases tr[data-id='{fixed['id']}']")
        acceptor.wait_for_selector("#detail .photos[data-stage='self_handled'] img")
        assert "处置前照片" in acceptor.locator("#detail .photos[data-stage='report']").inner_text()
        assert acceptor.locator("#detail button[data-action='send_to_register']").count() == 1
        acceptor.screenshot(path=str(ARTIFACTS / "console-self-handled.png"))
        acceptor.click("#detail button[data-action='archive']")
        acceptor.fill("#action-form textarea[name='opinion']", "现场已处置，归档")
        acceptor.get_by_role("button", name="确认归档").click()
        acceptor.wait_for_selector("#detail h3:has-text('已结案')")

        # A supplementary collection from the reporting inspector, picked from the list.
        acceptor.click("button[data-box='to_accept']")
        acceptor.click(f"#cases tr[data-id='{reported['id']}']")
        acceptor.click("#detail button[data-action='request_supplement']")
        acceptor.wait_for_selector(
            "select[name='inspector'] option:has-text('上报人')", state="attached"
        )
        acceptor.fill("#action-form textarea[name='opinion']", "请补拍井盖近景")
        acceptor.get_by_role("button", name="确认派发补采").click()
        acceptor.wait_for_selector("#detail h3:has-text('补采中')")
        acceptor.wait_for_selector(".tasks li[data-task='supplement']:has-text('进行中')")

        field.reload()
        field.wait_for_selector("button[data-box='my_supplement']")
        assert box_count(field, "my_supplement") == 1
        field.click("button[data-box='my_supplement']")
        field.click(f"#cases tr[data-id='{reported['id']}']")
        field.click("#detail button[data-action='supplement']")
        field.set_input_files(
            "input[name='photos']",
            files=[{"name": "near.png", "mimeType": "image/png", "buffer": NEAR}],
        )
        field.fill("#action-form textarea[name='opinion']", "已补拍近景")
        field.get_by_role("button", name="确认补采上报").click()
        field.wait_for_selector("#detail h3:has-text('待受理')")
        field.wait_for_selector("#detail .photos[data-stage='supplement'] img")
        field.wait_for_selector(".tasks li[data-task='supplement']:has-text('已完成')")
        field.screenshot(path=str(ARTIFACTS / "console-supplement.png"))
        acceptor.wait_for_function(
            "() => document.querySelector(\"button[data-box='to_accept'] .count\").textContent === '1'",
            timeout=10000,
        )
        assert acceptor_errors == [] and field_errors == []
        browser.close()
