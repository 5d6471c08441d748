"""Outages of the services the server runs on: without Redis, tiles are built and served
without the cache; without PostgreSQL, the health endpoint says so in a JSON 503 and every other
API request answers a JSON 503 `unavailable`.

The shared PostgreSQL and Redis are never stopped: Redis outages use a closed port or a
throwaway redis-server of the test's own; the PostgreSQL outage runs in a subprocess whose
DATABASE_URL names a closed port."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mapbox_vector_tile
import mercantile
import pytest
from django.conf import settings as django_settings

from core import cache as shared_cache
from tiles import cache as tile_cache

ROOT = Path(__file__).resolve().parents[2]
LON0, LAT0 = django_settings.CITY_CENTER
TILE = mercantile.tile(LON0, LAT0, 14)
TILE_URL = f"/tiles/districts/{TILE.z}/{TILE.x}/{TILE.y}.mvt"


def closed_port() -> int:
    """Gives a local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cache_at(settings):
    """Gives use(port): the Django cache (and so the tile cache) talks to Redis on `port`.
    The tile cache's memory of an outage is cleared before and after."""

    def use(port: int) -> None:
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
        }

    shared_cache.Outage.down, shared_cache.Outage.retry_at = False, 0.0
    yield use
    shared_cache.Outage.down, shared_cache.Outage.retry_at = False, 0.0


def districts_in(response) -> int:
    assert response.status_code == 200, response.content[:300]
    return len(mapbox_vector_tile.decode(response.content)["districts"]["features"])


def outage_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "core.cache" and r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_tiles_are_served_without_the_cache_while_redis_is_down(client, city, cache_at, caplog):
    cache_at(closed_port())
    for _ in range(3):
        assert districts_in(client.get(TILE_URL)) > 0
    assert client.get("/tiles/districts.json").status_code == 200
    assert len(outage_logs(caplog)) == 1, "the outage is logged once, not once per tile"


class ThrowawayRedis:
    """A redis-server of this test's own on a spare port (no persistence), stopped by pid."""

    def __init__(self, folder: Path):
        self.port, self.folder, self.pid = closed_port(), folder, 0

    def start(self) -> None:
        pidfile = self.folder / "redis.pid"
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "yes", "--dir", str(self.folder)]
            + ["--pidfile", str(pidfile), "--logfile", str(self.folder / "redis.log")],
            check=True,
        )
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                    self.pid = int(pidfile.read_text())
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("the throwaway redis-server did not start")

    def stop(self) -> None:
        if not self.pid:
            return
        os.kill(self.pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = 0


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_the_tile_cache_survives_redis_going_away_and_fills_again_when_it_is_back(
    client, city, cache_at, caplog, settings, tmp_path
):
    settings.CACHE_RETRY_SECONDS = 0  # try Redis again on the next tile
    redis_server = ThrowawayRedis(tmp_path)
    redis_server.start()
    try:
        cache_at(redis_server.port)
        first = client.get(TILE_URL)
        assert districts_in(first) > 0
        assert tile_cache.get(first["ETag"].strip('"')) == first.content  # cached

        redis_server.stop()
        during = client.get(TILE_URL)
        assert during.content == first.content and during["ETag"] == first["ETag"]
        assert len(outage_logs(caplog)) == 1

        redis_server.start()
        assert tile_cache.get(first["ETag"].strip('"')) is None  # a new, empty Redis
        assert client.get(TILE_URL).content == first.content
        assert tile_cache.get(first["ETag"].strip('"')) == first.content  # cached again
    finally:
        redis_server.stop()


# Runs in a subprocess whose database (and Redis) is a closed port; prints one JSON line per
# request: [label, status, content type, body].
DATABASE_DOWN_SCRIPT = """
import json
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "x" * 32
bearer = {"HTTP_AUTHORIZATION": "Bearer cg_not_a_token"}
requests = [
    ("health", "get", "/api/v1/health", {}),
    ("health with a token", "get", "/api/v1/health", bearer),
    ("layers", "get", "/api/v1/layers", {}),
    ("layers with a token", "get", "/api/v1/layers", bearer),
    ("collections", "get", "/ogc/collections", {}),
    ("locate", "get", "/api/v1/locate?lon=116.35&lat=40.0", {}),
    ("write", "post", "/api/v1/positions", {"data": {}, "content_type": "application/json"}),
]
for label, method, url, extra in requests:
    response = getattr(client, method)(url, **extra)
    print(json.dumps([label, response.status_code, response["Content-Type"],
                      response.content.decode(errors="replace")]))
"""


@pytest.fixture(scope="module")
def answers_without_database() -> dict[str, tuple[int, str, str]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://citygrid@127.0.0.1:{closed_port()}/citygrid",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "CITYGRID_DEBUG": "1",
        "CITYGRID_LOG_LEVEL": "CRITICAL",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", DATABASE_DOWN_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    return {label: (status, content_type, body) for label, status, content_type, body in rows}


@pytest.mark.parametrize("label", ["health", "health with a token"])
def test_health_without_the_database_is_a_json_503_that_says_what_is_down(
    answers_without_database, label
):
    status, content_type, body = answers_without_database[label]
    assert status == 503 and content_type.startswith("application/json"), body[:500]
    report = json.loads(body)
    assert report["status"] == "failed"
    assert report["database"]["ok"] is False and "OperationalError" in report["database"]["error"]
    assert report["redis"]["ok"] is False


@pytest.mark.parametrize(
    "label", ["layers", "layers with a token", "collections", "locate", "write"]
)
def test_any_api_request_without_the_database_is_a_json_503(answers_without_database, label):
    status, content_type, body = answers_without_database[label]
    assert status == 503 and content_type.startswith("application/json"), body[:500]
    error = json.loads(body)["error"]
    assert error["code"] == "unavailable" and "database" in error["message"]
    assert "DATABASES" not in body and "REDIS_URL" not in body
