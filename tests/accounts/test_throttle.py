"""Nobody can lock the city out: failed sign-ins slow down the failing client, never a person
signing in from elsewhere; the client address behind proxies; who is throttled; tokens revoked
when a password changes."""

from __future__ import annotations

import pytest
import redis
from django.test import Client, RequestFactory, override_settings

from accounts import throttle
from accounts.authentication import client_ip
from accounts.models import ApiToken, LoginLog, OperationLog
from tests.accounts.conftest import PASSWORD, signed_in, token_for

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
AT_HOME = {"REMOTE_ADDR": "198.51.100.7"}
NEW_PASSWORD = "Another-sturdy-2025"


def me(client: Client, token: str):
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def hammer(client: Client, username: str, times: int, **where) -> None:
    """Fails `times` sign-ins for `username`, waiting out every delay (the attacker is patient)."""
    for _ in range(times):
        response = token_for(client, username, "wrong", **where)
        while response.status_code == 429:
            throttle.now.pass_seconds(int(response["Retry-After"]))
            response = token_for(client, username, "wrong", **where)
        assert response.status_code == 401


# --- the lock-out denial of service is gone -------------------------------------------------


def test_unknown_usernames_from_one_client_lock_nobody_else_out(client, policy, inspector_a):
    for i in range(policy.max_failures_per_ip * 2):
        token_for(client, f"nobody-{i}", "wrong", **ATTACKER)
    # The guessing client is told to wait (no silent lock); everyone else signs in.
    waiting = token_for(client, "nobody-else", "wrong", **ATTACKER)
    assert waiting.status_code == 429 and waiting.json()["error"]["code"] == "throttled"
    assert token_for(client, "inspector-a", PASSWORD, **AT_HOME).status_code == 200


def test_a_named_account_cannot_be_locked_out_from_elsewhere(client, policy, clock, inspector_a):
    hammer(client, "inspector-a", policy.max_failures_per_username * 3, **ATTACKER)
    assert token_for(client, "inspector-a", PASSWORD, **ATTACKER).status_code == 429
    # The dispatcher at their own desk signs in at once.
    assert token_for(client, "inspector-a", PASSWORD, **AT_HOME).status_code == 200


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_behind_a_proxy_one_client_does_not_slow_down_everyone(client, policy, inspector_a):
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for i in range(policy.max_failures_per_ip * 2):
        token_for(client, f"nobody-{i}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.66", **via_proxy)
    throttled = token_for(client, "x", "y", HTTP_X_FORWARDED_FOR="203.0.113.66", **via_proxy)
    assert throttled.status_code == 429
    ok = token_for(client, "inspector-a", HTTP_X_FORWARDED_FOR="198.51.100.7", **via_proxy)
    assert ok.status_code == 200


# --- progressive delays ---------------------------------------------------------------------


def test_delays_double_with_each_failure_up_to_the_cap(client, policy, clock, inspector_a):
    for _ in range(policy.max_failures - 1):
        assert token_for(client, "inspector-a", "wrong").status_code == 401
    waits = []
    for _ in range(9):
        assert token_for(client, "inspector-a", "wrong").status_code == 401
        refused = token_for(client, "inspector-a", "wrong")
        assert refused.status_code == 429
        body = refused.json()["error"]
        assert body["code"] == "throttled" and body["message"] and "field" in body
        waits.append(int(refused["Retry-After"]))
        clock.pass_seconds(waits[-1])
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]  # the fixture's policy caps at 60 s
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200


def test_attempts_while_waiting_are_not_checked_and_do_not_lengthen_the_wait(
    client, policy, clock, inspector_a
):
    hammer(client, "inspector-a", policy.max_failures)
    for _ in range(20):
        refused = token_for(client, "inspector-a", PASSWORD)
        assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert LoginLog.objects.filter(outcome="throttled").count() == 20
    assert LoginLog.objects.filter(outcome="success").count() == 0
    clock.pass_seconds(1)
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200


def test_a_correct_password_clears_the_failures_at_that_client(client, policy, clock, inspector_a):
    hammer(client, "inspector-a", policy.max_failures)
    clock.pass_seconds(1)
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200
    for _ in range(policy.max_failures - 1):
        assert token_for(client, "inspector-a", "wrong").status_code == 401
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200


def test_failures_are_forgotten_after_the_window(client, policy, clock, inspector_a):
    hammer(client, "inspector-a", policy.max_failures + 5)
    clock.pass_seconds(policy.failure_window_minutes * 60 + 1)
    for _ in range(policy.max_failures - 1):
        assert token_for(client, "inspector-a", "wrong").status_code == 401
    assert token_for(client, "inspector-a", PASSWORD).status_code == 200


def test_the_username_counter_holds_back_only_clients_that_failed_for_it(
    client, policy, clock, inspector_a
):
    # A botnet: each address fails once, together past the username's limit.
    for i in range(policy.max_failures_per_username):
        hammer(client, "inspector-a", 1, REMOTE_ADDR=f"192.0.2.{i + 1}")
    bot = {"REMOTE_ADDR": "192.0.2.1"}
    assert token_for(client, "inspector-a", "guess", **bot).status_code == 429
    # The person, who has not failed, is not held back.
    assert token_for(client, "inspector-a", PASSWORD, **AT_HOME).status_code == 200


def test_the_policy_sets_the_limits_and_delays(client, policy, clock, inspector_a):
    policy.max_failures, policy.throttle_base_seconds, policy.throttle_max_seconds = 1, 5, 7
    policy.save()
    assert token_for(client, "inspector-a", "wrong").status_code == 401
    assert token_for(client, "inspector-a", PASSWORD)["Retry-After"] == "5"
    clock.pass_seconds(5)
    assert token_for(client, "inspector-a", "wrong").status_code == 401
    assert token_for(client, "inspector-a", PASSWORD)["Retry-After"] == "7"


def test_concurrent_attempts_at_the_limit_go_one_at_a_time(policy, clock):
    for _ in range(policy.max_failures):
        throttle.failed(throttle.begin("inspector-a", "198.51.100.9", policy))
    clock.pass_seconds(1)
    first = throttle.begin("inspector-a", "198.51.100.9", policy)
    with pytest.raises(throttle.SignInThrottled):
        throttle.begin("inspector-a", "198.51.100.9", policy)
    throttle.finished(first, signed_in=False)
    throttle.finished(throttle.begin("inspector-a", "198.51.100.9", policy), signed_in=False)


def test_a_place_left_by_a_dead_worker_is_given_up(policy, clock):
    for _ in range(policy.max_failures):
        throttle.failed(throttle.begin("inspector-a", "198.51.100.9", policy))
    clock.pass_seconds(1)
    throttle.begin("inspector-a", "198.51.100.9", policy)  # never finished
    clock.pass_seconds(throttle.HOLD_SECONDS + 1)
    throttle.begin("inspector-a", "198.51.100.9", policy)


def test_without_redis_sign_in_goes_on_unthrottled(client, inspector_a, monkeypatch):
    def unreachable(**_):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(throttle, "_script", lambda source: unreachable)
    assert token_for(client, "inspector-a", "wrong").status_code == 401
    assert token_for(client, "inspector-a").status_code == 200


# --- the client address ---------------------------------------------------------------------


def address(remote: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_forwarded_for_is_ignored_without_trusted_proxies():
    assert address("198.51.100.7", "1.2.3.4") == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::1"])
@pytest.mark.parametrize(
    "remote,forwarded,client",
    [
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        # What the client wrote itself (left of the first untrusted hop) is not believed.
        ("10.0.0.1", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        ("2001:db8::1", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),
        ("10.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
        ("10.0.0.1", "198.51.100.7:5000", "198.51.100.7"),
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("198.51.100.7", "1.2.3.4", "198.51.100.7"),
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_the_right_most_untrusted_address_is_the_client(remote, forwarded, client):
    assert address(remote, forwarded) == client


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_the_operation_log_records_the_client_behind_the_proxy(manager):
    response = signed_in(manager).post(
        "/api/v1/departments",
        {"code": "PX", "name": "proxy"},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",
    )
    assert response.status_code == 201
    assert OperationLog.objects.get(action="departments.save").ip == "198.51.100.7"


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from web.settings import _networks

    assert _networks(" 10.0.0.1, 172.16.0.0/12 ,") == ["10.0.0.1", "172.16.0.0/12"]
    assert _networks("") == []
    with pytest.raises(ImproperlyConfigured):
        _networks("10.0.0.1, proxy.example")


# --- who is throttled -----------------------------------------------------------------------


def test_admins_see_who_is_throttled_within_their_scope(
    client, policy, clock, manager, sysadmin, inspector_a, make_person
):
    make_person("outsider", ["cases.report"], [])
    hammer(client, "inspector-a", policy.max_failures, **ATTACKER)
    hammer(client, "outsider", 1, **ATTACKER)
    everything = signed_in(sysadmin).get("/api/v1/auth/throttled")
    assert everything.status_code == 200
    rows = {(r["kind"], r["username"], r["client"]): r for r in everything.json()}
    pair = rows[("pair", "inspector-a", ATTACKER["REMOTE_ADDR"])]
    assert pair["failures"] == policy.max_failures and pair["until"] and pair["last_failure_at"]
    assert rows[("client", None, ATTACKER["REMOTE_ADDR"])]["failures"] == policy.max_failures + 1
    assert ("username", "outsider", None) in rows
    # A manager of the district sees the people of the district only, and no bare clients.
    seen = {
        (r["kind"], r["username"]) for r in signed_in(manager).get("/api/v1/auth/throttled").json()
    }
    assert seen == {("pair", "inspector-a"), ("username", "inspector-a")}


def test_people_without_people_manage_cannot_see_the_counters(client, inspector_b):
    assert client.get("/api/v1/auth/throttled").status_code == 401
    assert signed_in(inspector_b).get("/api/v1/auth/throttled").status_code == 403
    refused = signed_in(inspector_b).delete("/api/v1/auth/throttled?client=203.0.113.66")
    assert refused.status_code == 403


def test_an_admin_clears_a_client(client, policy, clock, sysadmin, inspector_a):
    for i in range(policy.max_failures_per_ip):
        token_for(client, f"nobody-{i}", "wrong", **ATTACKER)
    assert token_for(client, "inspector-a", PASSWORD, **ATTACKER).status_code == 429
    admin = signed_in(sysadmin)
    cleared = admin.delete(f"/api/v1/auth/throttled?client={ATTACKER['REMOTE_ADDR']}")
    assert cleared.status_code == 200
    assert {r["kind"] for r in cleared.json()} == {"client", "pair"}
    assert token_for(client, "inspector-a", PASSWORD, **ATTACKER).status_code == 200
    row = OperationLog.objects.get(action="auth.clear_throttle")
    assert row.username == "root" and row.status == 200 and row.target == "203.0.113.66"
    assert admin.delete("/api/v1/auth/throttled").status_code == 400


def test_a_manager_clears_a_username_in_their_area(client, policy, clock, manager, inspector_a):
    hammer(client, "inspector-a", policy.max_failures, **ATTACKER)
    cleared = signed_in(manager).delete("/api/v1/auth/throttled?username=inspector-a")
    assert {r["kind"] for r in cleared.json()} == {"pair", "username"}
    assert token_for(client, "inspector-a", PASSWORD, **ATTACKER).status_code == 200


# --- a new password revokes the tokens ------------------------------------------------------


def test_changing_ones_password_revokes_ones_tokens(client, inspector_a):
    old = token_for(client, "inspector-a").json()["token"]
    other = token_for(client, "inspector-a").json()["token"]
    assert me(client, old).status_code == 200
    response = client.post(
        "/api/v1/auth/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {old}",
    )
    assert response.status_code == 204, response.content
    assert me(client, old).status_code == 401 and me(client, other).status_code == 401
    assert token_for(client, "inspector-a", PASSWORD).status_code == 401
    assert token_for(client, "inspector-a", NEW_PASSWORD).status_code == 200
    assert OperationLog.objects.get(action="auth.password").target == "inspector-a"


def test_changing_ones_password_keeps_this_session_and_ends_the_others(inspector_a):
    here, elsewhere = Client(), Client()
    for browser in (here, elsewhere):
        browser.login(username="inspector-a", password=PASSWORD)
        assert browser.get("/api/v1/me").status_code == 200
    response = here.post(
        "/api/v1/auth/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 204
    assert here.get("/api/v1/me").status_code == 200
    assert elsewhere.get("/api/v1/me").status_code == 401


def test_a_wrong_current_password_is_refused_and_counted(client, policy, clock, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    body = {"old_password": "wrong", "new_password": NEW_PASSWORD}
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
    for _ in range(policy.max_failures):
        refused = client.post("/api/v1/auth/password", body, **auth)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "old_password"
    assert client.post("/api/v1/auth/password", body, **auth).status_code == 429
    assert me(client, token).status_code == 200


def test_a_weak_new_password_is_refused(client, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    response = client.post(
        "/api/v1/auth/password",
        {"old_password": PASSWORD, "new_password": "abc"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "password"
    assert me(client, token).status_code == 200
    refusal = OperationLog.objects.get(action="auth.password")
    assert refusal.outcome == "failure" and refusal.status == 400 and refusal.via == "http"


def test_an_admin_setting_a_password_revokes_the_persons_tokens(client, manager, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    response = signed_in(manager).patch(
        f"/api/v1/people/{inspector_a.pk}",
        {"password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert me(client, token).status_code == 401


def test_other_changes_of_a_person_keep_their_tokens(client, manager, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    response = signed_in(manager).patch(
        f"/api/v1/people/{inspector_a.pk}", {"name": "张三"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert me(client, token).status_code == 200


def test_the_django_admin_setting_a_password_revokes_the_tokens(client, sysadmin, inspector_a):
    token = token_for(client, "inspector-a").json()["token"]
    response = signed_in(sysadmin).post(
        f"/admin/auth/user/{inspector_a.user_id}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert me(client, token).status_code == 401
    assert ApiToken.objects.filter(user=inspector_a.user, revoked_at__isnull=True).count() == 0
