"""Pages carry a Content-Security-Policy; serving with DEBUG off needs a secret key; the API
reference loads nothing from elsewhere."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/map", "/accounts/login/", "/api/v1/docs"])
def test_pages_carry_a_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy  # no other origin is allowed


@pytest.mark.django_db
def test_the_api_reference_loads_redoc_from_this_server(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in page and "https://" not in page.split("<body", 1)[0]
    assert "/static/drf_spectacular_sidecar/redoc" in page


def test_debug_off_without_a_secret_key_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if k != "CITYGRID_SECRET_KEY"}
    env["CITYGRID_DEBUG"] = "0"
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "CITYGRID_SECRET_KEY" in done.stderr
