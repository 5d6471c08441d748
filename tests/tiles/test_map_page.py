"""The /map page in a real browser: gunicorn on the test database, Debian's chromium driven by
Playwright, tiles drawn by MapLibre, features counted with queryRenderedFeatures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# The test's screenshot goes under var/ so a test run leaves the tree clean; the README's
# screenshot (docs/screenshot-map.png) is taken from `make run`'s demo city.
SCREENSHOT = ROOT / "var" / "test-artifacts" / "screenshot-map.png"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(city, django_db_blocker):
    """Gives (base URL, admin session id, city centre): gunicorn serving the test database with the city."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    if not (ROOT / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.js").exists():
        pytest.fail("node_modules/maplibre-gl missing: run scripts/install.sh (npm ci)")
    with django_db_blocker.unblock():
        user, _ = get_user_model().objects.get_or_create(
            username="map-page-admin", defaults={"is_superuser": True, "is_staff": True}
        )
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        centre = city_view()
    port = free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": settings.DATABASES["default"]["NAME"],
        "CITYGRID_CACHE_PREFIX": settings.DATABASES["default"]["NAME"] + "-live",
        "CITYGRID_DEBUG": "1",  # static files from the finders (node_modules) via WhiteNoise
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "web.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/map", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield base, session, centre
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def city_view() -> tuple[float, float]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c "
            "FROM spatial_component) AS s"
        )
        return cur.fetchone()


COUNT_JS = """() => {
  const counts = {};
  for (const f of window.citygridMap.queryRenderedFeatures()) {
    counts[f.sourceLayer] = (counts[f.sourceLayer] || 0) + 1;
  }
  return counts;
}"""


def wait_idle(page, timeout_s: float = 60) -> None:
    page.wait_for_function(
        "() => window.citygridMap && window.citygridMap.loaded() && window.citygridIdle === true",
        timeout=timeout_s * 1000,
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
# Transactional: the test database is set up for it and the fixtures' rows are committed, so
# the gunicorn process sees them (pytest-django flushes afterwards; `city` regenerates).
@pytest.mark.django_db(transaction=True)
def test_map_page_draws_grids_roads_and_components(server):
    from playwright.sync_api import sync_playwright

    base, session, (lon, lat) = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/map")
        wait_idle(page)
        page.evaluate(f"() => window.citygridMap.jumpTo({{center: [{lon}, {lat}], zoom: 15}})")
        page.wait_for_timeout(300)
        wait_idle(page)
        try:  # tiles of all three layers arrive (or the assertions below say which did not)
            page.wait_for_function(
                f"() => {{ const c = ({COUNT_JS})(); return c.unit_grids && c.roads && "
                f"c.components; }}",
                timeout=30000,
            )
        except Exception:
            pass
        counts = page.evaluate(COUNT_JS)
        debug = page.evaluate(
            "async () => { const r = await fetch('/styles/base.json'); const s = await r.json();"
            " return [r.status, Object.keys(s.sources), document.cookie, "
            "window.citygridMap.getZoom(), window.citygridMap.getCenter()]; }"
        )
        assert counts.get("unit_grids", 0) > 0, (counts, debug)
        assert counts.get("roads", 0) > 0, counts
        assert counts.get("components", 0) > 0, (counts, debug)
        labels = page.locator("#layers label").all_inner_texts()
        assert any("单元网格" in t for t in labels) and any("部件" in t for t in labels)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        # Toggling a layer off in the list removes its features from the map.
        page.locator("input[data-layer='unit_grids']").uncheck()
        page.wait_for_timeout(300)
        assert page.evaluate(COUNT_JS).get("unit_grids", 0) == 0

        # Lower zoom: components arrive as clusters with counts.
        page.evaluate("() => window.citygridMap.setZoom(12)")
        page.wait_for_timeout(300)
        wait_idle(page)
        clusters = page.evaluate(
            "() => window.citygridMap.queryRenderedFeatures({layers: ['components-cluster']})"
            ".map(f => f.properties.point_count)"
        )
        assert clusters and all(c >= 1 for c in clusters)

        # Click-to-identify opens a popup with what is there.
        page.evaluate("() => window.citygridMap.setZoom(17)")
        page.wait_for_timeout(300)
        wait_idle(page)
        with page.expect_response(lambda r: "/api/v1/identify" in r.url) as identify:
            page.mouse.click(640, 400)
        assert identify.value.status == 200, identify.value.text()
        found = identify.value.json()["features"]
        page.wait_for_selector(
            ".maplibregl-popup .identify h3, .maplibregl-popup .identify p", timeout=15000
        )
        popup = page.locator(".maplibregl-popup .identify").inner_text()
        assert "查询中" not in popup
        assert found, "the click is inside the city: at least its district is there"
        assert found[0]["layer_title"] in popup  # the popup shows what identify found
        assert "unit_grids" not in identify.value.url  # switched off above, so not asked

        # The dark variant restyles the map.
        page.select_option("#variant", "dark")
        page.wait_for_function(
            "() => window.citygridMap.isStyleLoaded() && window.citygridMap.getStyle().name"
            ".includes('深色')",
            timeout=20000,
        )
        bg = page.evaluate(
            "() => window.citygridMap.getPaintProperty('background', 'background-color')"
        )
        assert bg == "#0b1622"
        assert not errors, errors
        browser.close()


def test_map_page_is_public_and_loads_maplibre_from_npm(client, db):
    response = client.get("/map")
    assert response.status_code == 200
    html = response.content.decode()
    assert "maplibre-gl/maplibre-gl.js" in html and 'id="map-config"' in html
    assert shutil.which("node") is None or (ROOT / "package.json").exists()
