"""Signing in: tokens, throttling after failures, password policy, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import PASSWORD, token_for
from accounts.models import ApiToken, LoginLog, LoginPolicy
from accounts.passwords import policy_problems


def me(client: Client, token: str):
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_token_signs_in_and_me_answers(client, inspector_a, streets):
    response = token_for(client, "inspector-a")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_at"]
    stored = ApiToken.objects.get(user=inspector_a.user)
    assert body["token"] not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    profile = me(client, body["token"]).json()
    assert profile["username"] == "inspector-a"
    assert profile["admin_areas"] == [streets["A"].code]
    assert profile["area"]["type"] == "MultiPolygon"
    assert "cases.report" in profile["permissions"]
    assert LoginLog.objects.filter(username="inspector-a", outcome="success", method="token")


def test_wrong_password_is_401_and_logged(client, inspector_a):
    response = token_for(client, "inspector-a", "wrong-password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert LoginLog.objects.filter(username="inspector-a", outcome="failure").count() == 1


def test_failures_make_the_next_attempt_wait_then_it_may(client, policy, clock, inspector_a):
    for _ in range(policy.max_failures):
        assert token_for(client, "inspector-a", "wrong").status_code == 401
    # No silent lock: the caller is told to wait, whatever the password.
    waiting = token_for(client, "inspector-a", PASSWORD)
    assert waiting.status_code == 429
    assert waiting["Retry-After"] == "1"
    assert waiting.json()["error"]["code"] == "throttled"
    assert LoginLog.objects.filter(username="inspector-a", outcome="throttled").count() == 1
    clock.pass_seconds(1)
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200


def test_success_resets_the_account_count(client, policy, inspector_a):
    for _ in range(policy.max_failures - 1):
        token_for(client, "inspector-a", "wrong")
    assert token_for(client, "inspector-a").status_code == 200
    for _ in range(policy.max_failures - 1):
        token_for(client, "inspector-a", "wrong")
    assert token_for(client, "inspector-a").status_code == 200


def test_failures_from_one_client_throttle_that_client_only(client, policy, inspector_b):
    attacker = {"REMOTE_ADDR": "10.9.8.7"}
    for i in range(policy.max_failures_per_ip):
        token_for(client, f"guess-{i}", "wrong", **attacker)
    assert token_for(client, "inspector-b", PASSWORD, **attacker).status_code == 429
    assert token_for(client, "inspector-b", PASSWORD, REMOTE_ADDR="10.9.8.8").status_code == 200


def test_session_login_page_uses_the_same_throttle(policy, clock, inspector_a):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    csrf = page.cookies["csrftoken"].value
    form = {"username": "inspector-a", "csrfmiddlewaretoken": csrf}
    for _ in range(policy.max_failures):
        assert browser.post("/accounts/login/", {**form, "password": "x"}).status_code == 200
    waiting = browser.post("/accounts/login/", {**form, "password": PASSWORD})
    assert waiting.status_code == 429 and waiting["Retry-After"] == "1"
    assert "_auth_user_id" not in browser.session
    assert "请 1 秒后再试" in waiting.content.decode()
    clock.pass_seconds(1)
    ok = browser.post("/accounts/login/", {**form, "password": PASSWORD})
    assert ok.status_code == 302 and browser.session["_auth_user_id"]
    assert LoginLog.objects.filter(username="inspector-a", method="session", outcome="success")
    # Without the CSRF token the form is refused.
    assert Client(enforce_csrf_checks=True).post("/accounts/login/", form).status_code == 403


def test_login_page_follows_its_configuration(db):
    policy = LoginPolicy.current()
    policy.page_title, policy.page_footer = "某市城市管理平台", "某市城市管理指挥中心 版权所有"
    policy.logo_url = "/static/logo.png"
    policy.save()
    page = Client().get("/accounts/login/").content.decode()
    assert "某市城市管理平台" in page and "版权所有" in page and "/static/logo.png" in page


# An expiry moved by update() (no signal) is seen after CITYGRID_AUTH_CACHE_SECONDS
# (tests/tiles/test_tile_queries.py); here without that lifetime.
@override_settings(CITYGRID_AUTH_CACHE_SECONDS=0)
def test_token_expiry(client, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    assert me(client, token).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = me(client, token)
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == "token expired"


def test_token_lifetime_follows_policy(client, policy, inspector_a):
    policy.token_hours = 2
    policy.save()
    token_for(client, "inspector-a")
    token = ApiToken.objects.get(user=inspector_a.user)
    assert (
        timedelta(hours=1, minutes=59) < token.expires_at - token.created_at <= timedelta(hours=2)
    )


def test_logout_revokes_the_token(client, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", **auth).status_code == 204
    assert ApiToken.objects.get(user=inspector_a.user).revoked_at is not None
    assert me(client, token).status_code == 401
    assert client.post("/api/v1/auth/logout", **auth).status_code == 401
    assert LoginLog.objects.filter(username="inspector-a", outcome="logout", method="token")


def test_anonymous_me_is_401(client, db):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer " + "x" * 300, "Bearer 令牌", "Bearer ' OR 1=1 --"],
)
def test_malformed_bearer_headers_are_401(client, db, header):
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=header).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "", "password": ""},
        {"username": "a"},
        {"username": "x" * 151, "password": "p"},
        {"username": "a", "password": "p" * 2000},
        {"username": ["a"], "password": {"b": 1}},
        {"username": "a\x00b", "password": "p"},
    ],
)
def test_bad_sign_in_input_is_400(client, db, body):
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_input"


@pytest.mark.parametrize(
    "username",
    ["admin' OR '1'='1", "'; DROP TABLE auth_user; --", "监督员😀", "Ω" * 150, "%", "a\\b", " "],
)
def test_odd_usernames_are_clean_4xx(client, db, username):
    response = token_for(client, username, "whatever")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]["code"] in ("bad_input", "invalid_credentials")


def test_not_json_is_4xx(client, db):
    response = client.post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "password,ok",
    [
        ("short1!", False),
        ("alllowercaseletters", False),
        ("lowercase-with-dash", True),
        ("Mixed1234567", True),
        ("监督员的密码很长很长啊a", True),
    ],
)
def test_password_policy(db, password, ok):
    policy = LoginPolicy.current()
    assert (policy_problems(password, policy) == []) is ok


def test_password_policy_required_classes(db):
    policy = LoginPolicy.current()
    policy.required_classes, policy.min_password_length = ["digit", "upper"], 8
    policy.save()
    assert policy_problems("abcdefgh-", policy)
    assert policy_problems("Abcdefgh1", policy) == []


def test_people_api_enforces_password_policy(manager):
    from tests.accounts.conftest import signed_in

    client = signed_in(manager)
    weak = client.post(
        "/api/v1/people", {"username": "newbie", "password": "abc"}, content_type="application/json"
    )
    assert weak.status_code == 400 and weak.json()["error"]["field"] == "password"
    strong = client.post(
        "/api/v1/people",
        {"username": "newbie", "password": "Sturdy-pass-2024"},
        content_type="application/json",
    )
    assert strong.status_code == 201, strong.content
    assert token_for(Client(), "newbie", "Sturdy-pass-2024").status_code == 200


def test_django_admin_sign_in_goes_through_the_policy(client, policy, clock, sysadmin):
    form = {"username": "root", "password": "wrong", "next": "/admin/"}
    for _ in range(policy.max_failures):
        assert client.post("/admin/login/", form).status_code == 200
    waiting = client.post("/admin/login/", {**form, "password": PASSWORD})
    assert waiting.status_code == 200 and "_auth_user_id" not in client.session
    assert "请 1 秒后再试" in waiting.content.decode()
    methods = set(LoginLog.objects.filter(username="root").values_list("method", "outcome"))
    assert methods == {("admin", "failure"), ("admin", "throttled")}
    clock.pass_seconds(1)
    assert client.post("/admin/login/", {**form, "password": PASSWORD}).status_code == 302
