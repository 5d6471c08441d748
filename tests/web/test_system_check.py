"""The system check (系统检查): GET /api/v1/system/status for system admins only, with the
services, versions, disks, the Celery queue's length and the latest jobs with their errors;
and its page in headless Chromium with a real worker answering."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings

from accounts import permissions as perms
from accounts.demo import build_demo_organization
from core.models import Job
from tests import factories
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS

URL = "/api/v1/system/status"


def _failed_job(message: str) -> Job:
    return Job.objects.create(
        kind="layer_import",
        state=Job.State.FAILED,
        params={"file_name": "bad.zip"},
        errors=[{"code": "bad_input", "message": message, "field": "file"}],
    )


@pytest.mark.django_db
def test_only_system_admins_read_it():
    assert Client().get(URL).status_code == 401
    client = Client()
    client.force_login(
        factories.make_person("sys-gis", permissions=perms.GIS_ADMIN_PERMISSIONS).user
    )
    assert client.get(URL).status_code == 403
    assert client.get("/admin/gis/system").status_code == 403


@pytest.mark.django_db
def test_the_status_holds_services_versions_disks_queue_and_failed_jobs(admin_client):
    before = Job.objects.filter(state=Job.State.FAILED).count()
    job = _failed_job("the .prj names no CRS")
    queue = f"citygrid-syscheck-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.lpush(queue, "a", "b", "c")
    try:
        with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
            answer = admin_client.get(URL)
    finally:
        broker.delete(queue)
        broker.close()
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["services"]["database"]["ok"] is True and body["services"]["redis"]["ok"] is True
    assert body["versions"]["postgis"] and body["versions"]["gdal"]
    assert body["queues"] == [{"name": queue, "waiting": 3}]
    assert body["jobs"]["last_day"]["failed"] == before + 1
    row = next(r for r in body["jobs"]["latest"] if r["id"] == str(job.pk))
    assert row["error"] == "the .prj names no CRS" and row["file_name"] == "bad.zip"
    data = next(d for d in body["disks"] if d["name"] == "data")
    path = Path(settings.VAR_DIR)
    stat = os.statvfs(path)
    assert data["total_bytes"] == stat.f_blocks * stat.f_frsize


@pytest.fixture
def org(city, db):
    return {p.user.get_username(): p for p in build_demo_organization()}


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_services_and_a_failed_jobs_error(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    job = _failed_job("the .prj names no CRS")
    session = session_of("admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/system")
        page.wait_for_function("() => window.gisReady === true", timeout=30000)
        for _ in range(30):  # the worker the fixture started may still be starting
            if "正常" in page.locator(".card[data-service='celery']").inner_text():
                break
            page.get_by_role("button", name="重新检查").click()
            page.wait_for_timeout(1000)
        for service in ("database", "redis", "celery"):
            card = page.locator(f".card[data-service='{service}']").inner_text()
            assert "正常" in card, (service, card)
        row = page.locator(f"#jobs tr[data-job='{job.pk}']").inner_text()
        assert "失败" in row and "the .prj names no CRS" in row
        page.screenshot(path=str(ARTIFACTS / "gis-admin-system.png"))
        assert errors == []
        browser.close()
