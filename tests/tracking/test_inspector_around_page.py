"""The inspector monitor's search around a point (周边查询) and the card's day at work, end to
end in headless Chromium: the demo inspectors post fixes on the roads of their streets, one
clocks in over HTTP on a rostered shift; the shift leader turns the mode on, clicks the map,
sees the nearest listed with road and straight distances and the road way drawn, then opens
the inspector's card with today's attendance and work."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from spatial.models import AdminArea, RoadSegment
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS
from tracking.models import ClockRecord, RosterEntry, Shift, Tracker

from .test_inspector_page import _fix, _post, _token, org  # noqa: F401


def _on_road(street: AdminArea) -> tuple[float, float]:
    road = max(RoadSegment.objects.filter(geom__within=street.geom), key=lambda r: r.geom.length)
    point = road.geom.interpolate_normalized(0.5)
    return point.x, point.y


def _jpeg() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 120, 200)).save(data, "JPEG")
    return data.getvalue()


@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium")
@pytest.mark.django_db(transaction=True)
def test_search_around_draws_the_way_and_the_card_shows_the_day(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    call_command("build_road_graph", verbosity=0)
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code"))
    first = streets[0]
    tracker = Tracker.objects.get(device_id=f"PHONE-{first.code}")
    now = dt.datetime.now(dt.UTC)
    tz = timezone.get_default_timezone()
    begin = (timezone.now() - dt.timedelta(minutes=40)).astimezone(tz).replace(second=0)
    shift = Shift.objects.create(
        name="页面测试班", start=begin.time(), end=(begin + dt.timedelta(hours=2)).time()
    )
    RosterEntry.objects.create(tracker=tracker, date=begin.date(), shift=shift)
    leader = session_of("shiftleader")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        places = {}
        for street in streets:
            here = _on_road(street)
            token = _token(base, f"inspector-{street.code}")
            _post(base, f"Bearer {token}", [_fix(here, now - dt.timedelta(seconds=20))])
            places[street.code] = here
        token = _token(base, f"inspector-{first.code}")
        clocked = requests.post(
            base + "/api/v1/tracking/clock",
            data={"kind": "in", "lon": places[first.code][0], "lat": places[first.code][1]},
            files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert clocked.status_code == 201, clocked.text
        assert clocked.json()["off_grid"] is False
        explained = requests.post(
            base + "/api/v1/tracking/attendance/explanations",
            json={
                "date": str(begin.date()),
                "shift": shift.pk,
                "anomaly": "late",
                "text": "路上堵车",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert explained.status_code == 201, explained.text
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 860}, locale="zh-CN")
            context.add_cookies([{"name": "sessionid", "value": leader, "url": base}])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/inspectors")
            page.wait_for_selector(f"#tracker-list li[data-tracker='{tracker.pk}']")
            page.wait_for_function(
                "() => window.inspectorMap && window.inspectorMap.loaded()", timeout=60000
            )
            origin = (places[first.code][0] + 0.004, places[first.code][1] + 0.002)
            page.evaluate(
                "(c) => window.inspectorMap.jumpTo({center: c, zoom: 14.5})", list(origin)
            )
            page.wait_for_function("() => window.inspectorMap.loaded()", timeout=30000)

            # The mode on, a click on the map: the nearest by road, the way drawn.
            toggle = page.get_by_role("button", name="周边查询")
            toggle.click()
            assert toggle.get_attribute("aria-pressed") == "true"
            box = page.locator("#map canvas").bounding_box()
            spot = page.evaluate(
                "(c) => { const p = window.inspectorMap.project(c); return [p.x, p.y]; }",
                list(origin),
            )
            with page.expect_response(lambda r: "/tracking/nearest?" in r.url) as answer:
                page.mouse.click(box["x"] + spot[0], box["y"] + spot[1])
            found = answer.value.json()
            assert found["method"] == "road" and found["nearest"]
            nearest = found["nearest"][0]
            assert nearest["road_m"] >= nearest["straight_m"]
            rows = page.locator(".around-panel li[data-near]")
            rows.first.wait_for()
            assert rows.count() == len(found["nearest"])
            first_row = rows.first.inner_text()
            assert nearest["name"] in first_row and "道路" in first_row and "直线" in first_row
            drawn = page.evaluate(
                """async () => {
                    const data = await window.inspectorMap.getSource('around').getData();
                    const path = data.features.find((f) => f.properties.kind === 'path');
                    return path ? path.geometry.coordinates.length : 0;
                }"""
            )
            assert drawn >= 2
            page.wait_for_timeout(800)
            page.screenshot(path=str(ARTIFACTS / "inspectors-around.png"))

            # The keyboard's way: the map centre.
            page.locator(".around-panel button[data-around='centre']").focus()
            with page.expect_response(lambda r: "/tracking/nearest?" in r.url) as again:
                page.keyboard.press("Enter")
            assert again.value.status == 200

            # The card of the inspector who clocked in: today's attendance and work.
            page.locator(f"#tracker-list li[data-tracker='{tracker.pk}']").click()
            page.locator("#card .day .attendance div[data-duty]").first.wait_for()
            day = page.locator("#card .day").inner_text()
            assert "页面测试班" in day and "签到 " in day and "待签退" in day
            assert "异常：迟到 40 分钟" in day or "异常：迟到 41 分钟" in day
            page.locator("#card .day dd[data-work='上报']").wait_for()
            assert page.locator("#card .day dd[data-work='上报']").inner_text() == "0 件"
            assert "网格内" in page.locator("#card .day dd[data-work='在线']").inner_text()
            assert (
                page.evaluate("() => document.querySelector('#card .clock-photo img').naturalWidth")
                == 8
            )
            page.screenshot(path=str(ARTIFACTS / "inspectors-card-day.png"))

            # The supervisor accepts the inspector's explanation of being late, from the card.
            pending = page.locator("#card .explanation")
            assert "路上堵车" in pending.inner_text()
            pending.locator("input").fill("已核实")
            with page.expect_response(lambda r: r.url.endswith("/decide")) as decided:
                pending.get_by_role("button", name="通过").click()
            assert decided.value.status == 200, decided.value.text()
            page.wait_for_function(
                "() => document.querySelector('#card .day').textContent.includes('说明已通过')"
            )
            assert page.locator("#card .explanation").count() == 0
            # 网格员工作情况: every inspector's numbers for today, a name opens the card.
            page.get_by_role("button", name="工作统计").click()
            rows = page.locator(".work-table tbody tr")
            rows.first.wait_for()
            assert rows.count() == len(streets)
            mine = page.locator(f".work-table tr[data-person='{tracker.person_id}']")
            assert "0分钟" in mine.inner_text()  # one fix each: no interval online yet
            other = streets[1]
            page.locator(".work-table tbody th button", has_text=other.name).click()
            page.wait_for_function(
                "(name) => document.querySelector('#card h3').textContent.includes(name)",
                arg=other.name,
            )
            page.screenshot(path=str(ARTIFACTS / "inspectors-work.png"))
            page.get_by_role("button", name="工作统计").click()
            toggle.click()
            assert page.locator(".around-panel").first.is_hidden()
            assert errors == []
            browser.close()
    finally:  # the flush after a transactional test empties managed tables only
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tracking_fix")
        for record in ClockRecord.objects.all():  # the server kept the photo in its media
            record.photo.delete(save=False)
