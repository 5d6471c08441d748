"""`make run`'s gunicorn settings (web/gunicorn.conf.py): the master loads the gazetteer before
it forks and leaves no database connection for the workers to share."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "web" / "gunicorn.conf.py"

PROBE = """
import gc, json, os, runpy, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
import web.wsgi
conf = runpy.run_path(sys.argv[1])
conf["when_ready"](None)
from django.db import connections
from geocoder import dictionary
print(json.dumps({
    "open": [c.alias for c in connections.all() if c.connection is not None],
    "doors": len(dictionary._CURRENT.doors) if dictionary._CURRENT else None,
    "frozen": gc.get_freeze_count(),
}))
"""


def test_settings_keep_the_request_line_and_graceful_timeout():
    conf = runpy.run_path(str(CONF))
    assert conf["preload_app"] is True
    assert conf["limit_request_line"] == 8190 and conf["graceful_timeout"] == 5


@pytest.mark.django_db
def test_master_loads_the_gazetteer_and_closes_its_connections(city):
    from django.db import connection

    env = {**os.environ, "CITYGRID_PG_DB": connection.settings_dict["NAME"]}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(CONF)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["open"] == []
    assert state["doors"] and state["doors"] > 0
    assert state["frozen"] > 0
