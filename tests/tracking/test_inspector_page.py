"""The inspector monitor (/inspectors) end to end in headless Chromium: gunicorn and the stream
server on the test database; the demo inspectors and vehicles post fixes over HTTP as their
devices would; one inspector walks out of their street and stays out, the out-of-grid alarm
appears in the shift leader's alarm list without a reload, is acknowledged from the list, and
the inspector's day plays back on the map with its slider. The patrol routes and checkpoints are
drawn, an inspector with an open verify task shows busy (忙碌), and a vehicle driving off its
route raises 偏离路线 live."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from django.db import connection
from django.test import Client
from pyproj import Geod

from accounts.demo import DEMO_PASSWORD, build_demo_organization
from spatial.models import AdminArea
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS
from tracking.demo import build_demo_trackers, demo_key

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def org(city, db):
    """The demo organization and its trackers over the test city."""
    from cases.categories import load_demo_manual

    people = build_demo_organization()
    load_demo_manual()
    build_demo_trackers()
    return {p.user.get_username(): p for p in people}


def test_the_page_is_for_monitors_only(org):
    street = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code").first()
    assert Client().get("/inspectors").status_code == 302  # to the sign-in page
    for username, status in (
        ("shiftleader", 200),
        ("admin", 200),
        (f"inspector-{street.code}", 403),
    ):
        client = Client()
        client.force_login(org[username].user)
        answer = client.get("/inspectors")
        assert answer.status_code == status, username
        assert "监督员监控" in answer.content.decode()
        if status == 200:  # the page may open the stream server's origin
            assert "connect-src 'self' http://testserver:" in answer["Content-Security-Policy"]


def _token(base: str, username: str) -> str:
    answer = requests.post(
        base + "/api/v1/auth/token",
        json={"username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert answer.ok, answer.text
    return answer.json()["token"]


def _post(base: str, auth: str, fixes: list[dict], device: str | None = None) -> dict:
    body = {"fixes": fixes, **({"device": device} if device else {})}
    answer = requests.post(
        base + "/api/v1/tracking/fixes", json=body, headers={"Authorization": auth}, timeout=30
    )
    assert answer.ok, answer.text
    return answer.json()


def _fix(point: tuple[float, float], t: dt.datetime, **extra) -> dict:
    return {"t": t.isoformat(), "lon": point[0], "lat": point[1], "accuracy": 8, **extra}


def _walk_out(street: AdminArea, now: dt.datetime) -> tuple[list[dict], list[dict]]:
    """Gives two batches: ten minutes walking inside the street, then a walk at 5 m/s to a
    point 400 m east of it and four minutes there (device time, ending before `now`)."""
    inside = street.geom.point_on_surface
    start = (inside.x, inside.y)
    east_lon = street.geom.extent[2]
    out_lon, _, _ = GEOD.fwd(east_lon, inside.y, 90, 400)
    distance = GEOD.inv(start[0], start[1], out_lon, inside.y)[2]
    steps = int(distance // 50) + 1
    t0 = now - dt.timedelta(seconds=10 * (60 + steps + 24) + 30)
    first = [
        _fix(
            GEOD.fwd(*start, (n * 37) % 360, 10 + n % 3 * 5)[:2], t0 + dt.timedelta(seconds=10 * n)
        )
        for n in range(60)
    ]
    path = [
        (start[0] + (out_lon - start[0]) * k / steps, start[1] + (inside.y - start[1]) * k / steps)
        for k in range(1, steps + 1)
    ] + [(out_lon, inside.y)] * 24
    t1 = t0 + dt.timedelta(seconds=600)
    second = [_fix(p, t1 + dt.timedelta(seconds=10 * n), speed=5.0) for n, p in enumerate(path)]
    return first, second


def _the_others_report(base: str, streets: list[AdminArea], now: dt.datetime) -> None:
    """Every inspector but the first's posts a fix inside their street (the last one 20
    minutes ago, so offline); two vehicles post theirs with their device keys."""
    for n, street in enumerate(streets[1:], start=1):
        here = street.geom.point_on_surface
        t = now - dt.timedelta(minutes=20 if n == len(streets) - 1 else 1)
        token = _token(base, f"inspector-{street.code}")
        _post(base, f"Bearer {token}", [_fix((here.x, here.y), t, battery=60 + n * 7)])
    for n, device in enumerate(("VEH-001", "VEH-002")):
        here = streets[n % len(streets)].geom.point_on_surface
        point = GEOD.fwd(here.x, here.y, 45, 150)[:2]
        auth = f"Device {device}:{demo_key(device)}"
        _post(base, auth, [_fix(point, now - dt.timedelta(seconds=20), speed=9.0)], device)


def _give_a_verify_task(base: str, street: AdminArea) -> None:
    """The acceptor takes a hotline case in `street` and asks its inspector to verify it."""
    auth = {"Authorization": f"Bearer {_token(base, 'acceptor')}"}
    here = street.geom.point_on_surface
    body = {
        "source": "hotline",
        "kind": "event",
        "category": "0102",
        "description": "路边有暴露垃圾",
        "lon": here.x,
        "lat": here.y,
        "reporter": {"name": "王女士", "phone": "13800001111"},
    }
    made = requests.post(base + "/api/v1/cases", json=body, headers=auth, timeout=30)
    assert made.status_code == 201, made.text
    case = made.json()["id"]
    for version, name in enumerate(("accept", "request_verify"), start=1):
        answer = requests.post(
            f"{base}/api/v1/cases/{case}/actions/{name}",
            json={"version": version},
            headers=auth,
            timeout=30,
        )
        assert answer.ok, answer.text


def _off_route_drive(device: str, now: dt.datetime) -> list[dict]:
    """Gives three minutes of fixes at a point of the city (where the shift leader sees it) at
    least 150 m from the vehicle's route."""
    import shapely

    from tracking.models import Tracker

    route = Tracker.objects.get(device_id=device).route
    assert route is not None
    line = shapely.from_wkb(bytes(route.geom.wkb))
    streets = AdminArea.objects.filter(level=AdminArea.Level.STREET)
    city = shapely.union_all([shapely.from_wkb(bytes(s.geom.wkb)) for s in streets])
    candidates = [
        GEOD.fwd(x, y, bearing, reach)[:2]
        for x, y in route.geom.coords[:: max(1, len(route.geom.coords) // 8)]
        for bearing in range(0, 360, 15)
        for reach in (400, 600, 800)
    ]
    candidates = [p for p in candidates if city.contains(shapely.Point(p).buffer(0.002))]
    assert candidates, "no point of the city far from the route"
    point = max(candidates, key=lambda p: line.distance(shapely.Point(p)))
    assert (
        GEOD.inv(*point, *line.interpolate(line.project(shapely.Point(point))).coords[0])[2] > 150
    )
    t0 = now - dt.timedelta(seconds=200)
    return [_fix(point, t0 + dt.timedelta(seconds=10 * n), speed=0.5) for n in range(19)]


def _line_vertices(page) -> int:
    return page.evaluate(
        """async () => {
            const data = await window.inspectorMap.getSource('track').getData();
            const line = data.features.find((f) => f.properties.kind === 'track');
            return line ? line.geometry.coordinates.length : 0;
        }"""
    )


def _playhead(page) -> list[float]:
    return page.evaluate(
        """async () => {
            const data = await window.inspectorMap.getSource('playhead').getData();
            return data.features[0].geometry.coordinates;
        }"""
    )


@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="no chromium")
@pytest.mark.django_db(transaction=True)
def test_an_inspector_leaving_the_grid_alarms_the_monitor_live_and_plays_back(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tracking.models import Tracker

    base = servers
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code"))
    assert len(streets) >= 2
    street = streets[0]
    tracker = Tracker.objects.get(device_id=f"PHONE-{street.code}")
    silent = Tracker.objects.get(device_id=f"PHONE-{streets[-1].code}")
    leader = session_of("shiftleader")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    first, second = _walk_out(street, now)
    detour = _off_route_drive("VEH-003", now)  # the ORM before sync_playwright's loop
    inspector = f"Bearer {_token(base, f'inspector-{street.code}')}"
    try:
        assert _post(base, inspector, first)["accepted"] == len(first)
        _the_others_report(base, streets, now)
        _give_a_verify_task(base, streets[-1])  # the silent one: offline, though it has a task
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
                "() => document.querySelector('#live').classList.contains('on')", timeout=15000
            )
            page.wait_for_function(
                "() => window.inspectorMap && window.inspectorMap.loaded()", timeout=60000
            )
            assert page.locator("#alarm-list li[data-alarm]").count() == 0
            assert page.locator(
                f"#tracker-list li[data-tracker='{silent.pk}'] .dot.offline"
            ).count()
            assert page.locator("#tracker-list .dot.online.vehicle").count() == 2
            # The silent inspector reports again: online with an open task, so busy.
            here = streets[-1].geom.point_on_surface
            token = f"Bearer {_token(base, f'inspector-{streets[-1].code}')}"
            _post(base, token, [_fix((here.x, here.y), now - dt.timedelta(seconds=5))])
            page.locator(f"#tracker-list li[data-tracker='{silent.pk}'] .dot.busy").wait_for()
            assert "忙碌 1" in page.locator("#summary").inner_text()
            routes = page.evaluate(
                """async () => {
                    const data = await window.inspectorMap.getSource('routes').getData();
                    return data.features.map((f) => f.properties.kind);
                }"""
            )
            assert routes.count("route") >= 3 and routes.count("checkpoint") >= 4

            # The inspector walks out of the street and stays out: the alarm arrives live.
            assert _post(base, inspector, second)["accepted"] == len(second)
            started = time.monotonic()
            row = page.locator("#alarm-list li[data-kind='out_of_grid']")
            row.wait_for(timeout=5000)
            assert time.monotonic() - started < 5
            assert row.locator(".kind").inner_text() == "越界"
            assert "进行中" in row.inner_text()
            assert row.get_attribute("class").startswith("fresh")
            page.wait_for_function(
                "() => document.querySelector('#summary').textContent.includes('报警中 1')"
            )
            page.evaluate(
                """(id) => {
                    const t = window.inspectorMonitor.view.trackers[id];
                    window.inspectorMap.jumpTo({center: [t.lon, t.lat], zoom: 14.6});
                }""",
                tracker.pk,
            )
            page.wait_for_function("() => window.inspectorMap.loaded()", timeout=30000)
            page.screenshot(path=str(ARTIFACTS / "inspectors-alarm.png"))

            # Acknowledged from the list, with the keyboard.
            row.locator("button[data-ack]").focus()
            page.keyboard.press("Enter")
            page.keyboard.type("已电话联系，返回网格")
            page.locator("#alarm-list input[name='justified']").check()
            with page.expect_response(lambda r: "/acknowledge" in r.url) as acked:
                page.get_by_role("button", name="确认处理").click()
            assert acked.value.status == 200, acked.value.text()
            page.locator("#alarm-list li[data-kind='out_of_grid'] .acked").wait_for()
            assert "合理" in page.locator("#alarm-list li[data-kind='out_of_grid']").inner_text()

            # A vehicle off its route for three minutes: 偏离路线, live.
            vehicle = "VEH-003"
            auth = f"Device {vehicle}:{demo_key(vehicle)}"
            assert _post(base, auth, detour, vehicle)["accepted"] == len(detour)
            off = page.locator("#alarm-list li[data-kind='off_route']")
            off.wait_for(timeout=5000)
            assert off.locator(".kind").inner_text() == "偏离路线"
            assert "最远偏离路线" in off.inner_text()

            # The card, then the day's playback: the line, its vertices and the slider's marker.
            row.click()
            page.wait_for_selector("#card h3")
            assert street.name in page.locator("#card").inner_text()
            with page.expect_response(lambda r: "/track?" in r.url) as answer:
                page.click("#card button[data-playback='load']")
            track = answer.value.json()
            line = next(f for f in track["features"] if f["properties"]["kind"] == "track")
            kept = len(line["geometry"]["coordinates"])
            assert kept > 1
            page.wait_for_function(
                "() => !document.querySelector('#card input[type=range]').disabled"
            )
            assert _line_vertices(page) == kept
            slider = page.locator("#card input[type=range]")
            start_at = _playhead(page)
            assert start_at == pytest.approx(line["geometry"]["coordinates"][0], abs=1e-7)
            slider.focus()
            page.keyboard.press("End")
            end_at = _playhead(page)
            assert end_at == pytest.approx(line["geometry"]["coordinates"][-1], abs=1e-4)
            page.keyboard.press("Home")
            page.select_option("#card select[data-playback='speed']", "16")
            page.click("#card button[data-playback='play']")
            page.wait_for_function(
                "() => Number(document.querySelector('#card input[type=range]').value) > 0"
            )
            assert _playhead(page) != start_at
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "inspectors-playback.png"))
            assert errors == []
            browser.close()
    finally:  # the flush after a transactional test empties managed tables only
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tracking_fix")
