"""The wall screen (/screen) and process supervision (/supervision) end to end in headless
Chromium: gunicorn and the stream server on the test database. A case registered over the API
appears among the latest cases within 5 s; a census number drilled down to a street lists
exactly that street's cases; screenshots at 3840×1080 and 1920×1080 (var/test-artifacts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.cases import test_console_page as console
from tests.evaluation import test_screen_stats as stats_tests
from tests.tiles.test_map_page import ARGS, CHROMIUM

ARTIFACTS = console.ARTIFACTS
org, two_streets = stats_tests.org, stats_tests.two_streets
servers = console.servers
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
    pytest.mark.django_db(transaction=True),
]


def photo(seed: int):
    """A made-up scene photo (a road, a heap in a colour of `seed`) as an upload."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (320, 240), (150, 170, 150))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 150, 320, 240), fill=(90, 90, 95))
    colour = ((180, 120, 60), (60, 120, 180), (170, 60, 60))[seed % 3]
    draw.ellipse((90 + 7 * (seed % 9), 110, 220, 190), fill=colour)
    data = io.BytesIO()
    picture.save(data, format="JPEG")
    return SimpleUploadedFile(f"scene{seed}.jpg", data.getvalue(), content_type="image/jpeg")


def scatter(org, streets, per_street: list[int]) -> dict[str, list[int]]:
    """Reports cases today in each street (as the acceptor), every other one with a photo, some
    registered and dispatched; gives the ids per street code."""
    import datetime as dt

    from django.utils import timezone

    from accounts.scoping import scope_for_user
    from cases import actions
    from cases.models import Condition
    from data.models import Category
    from tests.cases.scattered import points_in

    acceptor = scope_for_user(org["acceptor"].user)
    leader = scope_for_user(org["shiftleader"].user)
    dispatcher = scope_for_user(org["dispatcher"].user)
    handler = scope_for_user(org["dept-huanwei"].user)
    classes = [Category.objects.get(kind="event", code=c) for c in ("0102", "0101", "0103")]
    made: dict[str, list[int]] = {}
    start = timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0)
    for s, (street, n) in enumerate(zip(streets, per_street)):
        for k, (lon, lat) in enumerate(points_in(street, n, seed=10 + s)):
            category = classes[k % len(classes)]
            source = ("inspector", "hotline", "public")[k % 3]
            new = actions.NewCase(source, category, f"{street.name}问题{k}", lon, lat,
                                  address=f"{street.name}{k}号")  # fmt: skip
            at = min(start + dt.timedelta(minutes=13 * k + 7 * s), timezone.now())
            case = actions.do_report_case(acceptor, new, at=at)
            made.setdefault(street.code, []).append(case.pk)
            if k % 2 == 0:
                actions.do_attach_media(acceptor, case, "report", photo(k), "image/jpeg", at=at)
            if source == "inspector" and k % 2 == 0:
                condition = Condition.objects.filter(category=category, kind="register").first()
                if condition is None:
                    continue
                actions.do_accept_case(acceptor, case.pk, version=1, at=at)
                actions.do_register_case(leader, case.pk, version=2, condition=condition.pk, at=at)
                case = actions.do_dispatch_case(dispatcher, case.pk, version=3, at=at)
                if case.department_id and case.department.code == "H-huanwei":  # after the work
                    after = photo(k + 5)
                    actions.do_attach_media(handler, case, "handling", after, "image/jpeg", at=at)
    return made


def open_screen(browser, base: str, session: str, width: int, query: str = ""):
    context = browser.new_context(viewport={"width": width, "height": 1080}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/screen" + query)
    page.wait_for_function("() => document.body.dataset.loaded === 'yes'", timeout=60000)
    page.wait_for_function(
        "() => document.querySelector('#live').classList.contains('on')", timeout=15000
    )
    page.wait_for_function("() => window.screenMap && window.screenMap.loaded()", timeout=60000)
    return page, errors


def test_a_new_case_appears_and_a_census_number_lists_its_cases(servers, org, two_streets):
    from playwright.sync_api import sync_playwright

    from spatial.models import AdminArea

    base = servers
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code"))
    assert len(streets) == 2  # the test city
    made = scatter(org, streets, [9, 5])
    from cases.models import Case

    street = streets[0]
    expected = set(made[street.code])
    assert len(expected) == 9
    communities: dict[str, set[int]] = {}
    for pk, code in Case.objects.filter(pk__in=expected).values_list("pk", "community_code"):
        communities.setdefault(code, set()).add(pk)
    community, in_community = max(communities.items(), key=lambda kv: len(kv[1]))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sessions = {name: console.session_of(name) for name in ("leader", "acceptor")}
    lon, lat = street.geom.point_on_surface.coords
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page, errors = open_screen(browser, base, sessions["leader"], 1920)

        # The test city has one district: the census opens on its streets. A street's 上报
        # lists exactly its cases.
        row = f"#census-table tr[data-code='{street.code}']"
        page.wait_for_selector(row)
        number = page.locator(f"{row} td:nth-child(2) button")
        assert int(number.get_attribute("data-count")) == 9
        number.click()
        page.wait_for_function(
            "() => document.querySelectorAll('#drawer-list .case-row').length === 9",
            timeout=15000,
        )
        listed = {
            int(v)
            for v in page.eval_on_selector_all(
                "#drawer-list .case-row", "rows => rows.map(r => r.dataset.case)"
            )
        }
        assert listed == expected
        assert "9 件" in page.inner_text("#drawer-title")
        page.click("#drawer-close")

        # Drill into the street: its communities; one community's 上报 lists its cases.
        page.click(f"{row} button.area")
        cell = f"#census-table tr[data-code='{community}'] td:nth-child(2) button"
        page.wait_for_selector(cell)
        assert int(page.get_attribute(cell, "data-count")) == len(in_community)
        page.click(cell)
        page.wait_for_function(
            "n => document.querySelectorAll('#drawer-list .case-row').length === n",
            arg=len(in_community),
            timeout=15000,
        )
        listed = page.eval_on_selector_all(
            "#drawer-list .case-row", "rows => rows.map(r => Number(r.dataset.case))"
        )
        assert set(listed) == in_community
        page.click(f"#drawer-list .case-row[data-case='{listed[0]}']")
        page.wait_for_selector("#drawer-detail ol li")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(ARTIFACTS / "screen-drilldown.png"))
        page.click("#drawer-close")

        # A case registered over the API shows among the latest within 5 s.
        case = console.api(
            base,
            sessions["acceptor"],
            "/api/v1/cases",
            {
                "source": "hotline",
                "kind": "event",
                "category": "0102",
                "description": "大屏实时：路口垃圾堆积",
                "address": "大屏测试路1号",
                "lon": lon,
                "lat": lat,
            },
        )
        started = time.monotonic()
        page.wait_for_selector(
            f"#latest-list .case-row[data-number='{case['number']}']", timeout=5000
        )
        assert time.monotonic() - started < 5
        page.wait_for_timeout(2500)  # the numbers follow after the burst settles
        page.screenshot(path=str(ARTIFACTS / "screen-1920.png"))

        wide, wide_errors = open_screen(browser, base, sessions["leader"], 3840)
        wide.wait_for_timeout(1500)
        wide.screenshot(path=str(ARTIFACTS / "screen-3840.png"))
        hot, hot_errors = open_screen(
            browser, base, sessions["leader"], 1920, "?view=hotspots&theme=light"
        )
        hot.wait_for_function("() => document.querySelector('#legend').innerText.includes('Gi*')")
        hot.wait_for_timeout(1500)
        hot.screenshot(path=str(ARTIFACTS / "screen-hotspots-light.png"))
        browser.close()
    assert errors == [] and wide_errors == [] and hot_errors == []


def test_supervision_lists_a_stage_and_shows_a_cases_steps(servers, org, two_streets):
    from playwright.sync_api import sync_playwright

    from cases.models import Case

    base = servers
    made = scatter(org, two_streets, [6, 3])
    handling = Case.objects.filter(pk__in=sum(made.values(), []), state="handling")
    waiting = handling.count()
    assert waiting >= 1
    first = handling.order_by("deadline").first()  # the ORM before Playwright's loop
    session = console.session_of("leader")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/supervision")
        page.wait_for_function("() => document.body.dataset.loaded === 'yes'", timeout=60000)
        count = page.locator("#stage-list button[data-state='handling'] .n").inner_text()
        assert int(count) == waiting
        page.click("#stage-list button[data-state='handling']")
        page.wait_for_selector(f"#case-list li[data-case='{first.pk}']")
        page.click(f"#case-list li[data-case='{first.pk}']")
        page.wait_for_selector("#detail table.steps tbody tr")
        cells = page.locator("#detail table.steps tbody tr").all_inner_texts()
        assert any("dispatcher" in c for c in cells) and "进行中" in cells[-1]
        page.wait_for_selector("#detail .beforeafter")
        page.wait_for_function(
            "() => window.supervisionMap && window.supervisionMap.loaded()", timeout=30000
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "supervision.png"))
        browser.close()
    assert errors == []
