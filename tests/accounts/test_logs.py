"""Login and operation logs: written for sign-ins and every API write, read with filters and CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import JsonResponse
from django.test import Client, RequestFactory

from tests.accounts.conftest import signed_in, token_for
from accounts.audit import OperationLogMiddleware
from accounts.models import Department, LoginLog, OperationLog


def test_api_write_is_logged_with_actor_and_route(manager):
    client = signed_in(manager)
    response = client.post(
        "/api/v1/departments",
        {"code": "HW", "name": "环卫", "kind": "handling"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 201, response.content
    log = OperationLog.objects.get()
    assert (log.username, log.method, log.status, log.outcome) == (
        "manager",
        "POST",
        201,
        "success",
    )
    assert log.action == "departments.save" and log.ip == "192.0.2.7" and log.via == "http"
    assert "pos-manager" in log.positions
    dept = Department.objects.get(code="HW")
    client.patch(
        f"/api/v1/departments/{dept.pk}", {"phone": "12345"}, content_type="application/json"
    )
    assert OperationLog.objects.filter(target=str(dept.pk), method="PATCH").exists()


def test_failed_write_is_logged_as_failure(manager, inspector_a):
    signed_in(manager).post("/api/v1/departments", {"code": ""}, content_type="application/json")
    signed_in(inspector_a).delete("/api/v1/departments/1")
    Client().post("/api/v1/departments", {}, content_type="application/json")
    rows = list(OperationLog.objects.order_by("id").values_list("username", "status", "outcome"))
    assert rows == [
        ("manager", 400, "failure"),
        ("inspector-a", 403, "failure"),
        ("", 401, "failure"),
    ]


def test_reads_are_not_logged(manager):
    signed_in(manager).get("/api/v1/departments")
    assert not OperationLog.objects.exists()


def _middleware(view):
    return OperationLogMiddleware(view)


def test_failed_write_rolls_back_but_its_log_stays(db):
    """A view that writes and then answers 4xx leaves nothing written but the failure log."""

    def half_write(request):
        Department.objects.create(code="HALF", name="半成品")
        return JsonResponse({"error": {"code": "conflict"}}, status=409)

    request = RequestFactory().post("/api/v1/whatever", REMOTE_ADDR="192.0.2.1")
    request.user = None
    response = _middleware(half_write)(request)
    assert response.status_code == 409
    assert not Department.objects.filter(code="HALF").exists()
    log = OperationLog.objects.get()
    assert (log.status, log.outcome, log.path) == (409, "failure", "/api/v1/whatever")


def test_successful_write_and_log_commit_together(db):
    def write(request):
        Department.objects.create(code="WHOLE", name="完整")
        return JsonResponse({}, status=201)

    request = RequestFactory().post("/ogc/collections/x/items")
    request.user = None
    _middleware(write)(request)
    assert Department.objects.filter(code="WHOLE").exists()
    assert OperationLog.objects.get().outcome == "success"


def test_view_crash_is_logged_and_rolled_back(db):
    def crash(request):
        Department.objects.create(code="CRASH", name="崩溃")
        raise RuntimeError("boom")

    request = RequestFactory().delete("/tiles/x")
    request.user = None
    with pytest.raises(RuntimeError):
        _middleware(crash)(request)
    assert not Department.objects.filter(code="CRASH").exists()
    assert OperationLog.objects.get().status == 500


def test_writes_outside_the_api_are_not_wrapped(db):
    request = RequestFactory().post("/accounts/login/")
    request.user = None
    _middleware(lambda r: JsonResponse({}, status=200))(request)
    assert not OperationLog.objects.exists()


def test_login_log_records_sign_ins(client, manager, inspector_a):
    token_for(client, "inspector-a", "wrong", REMOTE_ADDR="192.0.2.9")
    token_for(client, "inspector-a", REMOTE_ADDR="192.0.2.9")
    body = signed_in(manager).get("/api/v1/logs/logins?username=inspector-a").json()
    outcomes = [(r["outcome"], r["method"], r["ip"]) for r in body["results"]]
    assert outcomes == [("success", "token", "192.0.2.9"), ("failure", "token", "192.0.2.9")]
    assert body["count"] == 2
    failures = signed_in(manager).get("/api/v1/logs/logins?outcome=failure").json()
    assert [r["outcome"] for r in failures["results"]] == ["failure"]


def test_log_filters_and_bad_filters(manager, inspector_a):
    client = signed_in(manager)
    client.post("/api/v1/departments", {"code": "X1", "name": "x"}, content_type="application/json")
    ok = client.get("/api/v1/logs/operations?since=2000-01-01&until=2999-12-31&outcome=success")
    assert ok.status_code == 200 and ok.json()["count"] == 1
    none = client.get("/api/v1/logs/operations?until=2000-01-01")
    assert none.json()["count"] == 0
    by_person = client.get(f"/api/v1/logs/operations?person={manager.user_id}").json()
    assert by_person["count"] == 1
    by_action = client.get("/api/v1/logs/operations?action=departments.save").json()
    assert by_action["count"] == 1
    for bad in (
        "since=yesterday",
        "until=2024-13-45",
        "outcome=maybe",
        "person=abc",
        "person=' OR 1=1 --",
        "method=carrier-pigeon",
    ):
        path = "/api/v1/logs/logins" if "method" in bad else "/api/v1/logs/operations"
        response = client.get(f"{path}?{bad}")
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["error"]["code"] == "bad_input"


def test_csv_export(manager, client):
    token_for(client, "manager", "nope")
    token_for(client, "manager")
    response = signed_in(manager).get("/api/v1/logs/logins?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["outcome"] for r in rows} == {"success", "failure"}
    assert set(rows[0]) >= {"at", "username", "ip", "outcome", "method"}
    bad = signed_in(manager).get("/api/v1/logs/logins?format=csv&since=never")
    assert bad.status_code == 400


def test_logs_need_logs_read(client, inspector_a, db):
    assert client.get("/api/v1/logs/operations").status_code == 401
    assert signed_in(inspector_a).get("/api/v1/logs/logins").status_code == 403
    assert signed_in(inspector_a).get("/api/v1/logs/logins?format=csv").status_code == 403


def test_session_logout_is_logged(inspector_a):
    client = signed_in(inspector_a)
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert LoginLog.objects.filter(username="inspector-a", outcome="logout", method="session")
    assert client.get("/api/v1/me").status_code == 401
