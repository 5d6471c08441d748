"""What one signed-in tile of a non-public layer costs in queries once this process knows the
caller (accounts/authcache.py), and that revoking a grant, deactivating the user or changing
the password still takes effect: at once when the change goes through Django in this process,
within CITYGRID_AUTH_CACHE_SECONDS when it does not (another process, SQL by hand)."""

from __future__ import annotations

import functools

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.authentication import issue_token
from tests.tiles.conftest import LAT0, LON0, HEIGHT, WIDTH, decode, make_user, tile_of

# A tile inside street A (the west half of the town).
Z, X, Y = tile_of(LON0 + WIDTH * 0.2, LAT0 + HEIGHT * 0.5, 16)
URL = f"/tiles/components/{Z}/{X}/{Y}.mvt"


@pytest.fixture
def inspector(town):
    from spatial.models import Layer

    street_a = town["streets"][0]
    return make_user("inspector-q", layers=[Layer.objects.get(key="components")], areas=[street_a])


@pytest.fixture
def session_client(client, inspector):
    client.force_login(inspector)
    return client


@pytest.fixture
def bearer(client, inspector):
    raw, _ = issue_token(inspector)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _queries(client, **headers) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, **headers)
    return response, [q["sql"] for q in captured.captured_queries]


def _components(response) -> int:
    assert response.status_code == 200, response.content[:200]
    return len(decode(response.content).get("components", []))


@pytest.mark.parametrize("cached_tile", [True, False], ids=["tile-cached", "tile-built"])
@pytest.mark.parametrize("how", ["session", "bearer"])
def test_a_warm_signed_in_tile_reads_no_session_user_or_scope(
    how, cached_tile, client, session_client, bearer, settings
):
    settings.TILES_CACHE_ENABLED = cached_tile
    headers = bearer if how == "bearer" else {}
    if how == "bearer":
        client.logout()
    first, cold = _queries(client, **headers)
    assert _components(first) > 0
    assert any("accounts_person" in q for q in cold)  # the scope was read once
    response, warm = _queries(client, **headers)
    assert response.content == first.content
    # The registry digest, and the tile query when the tile is not in the tile cache: no
    # session, user, token or scope query.
    kinds = [
        "digest" if "md5(l::text" in q else "tile" if "ST_AsMVT(" in q else q[:80] for q in warm
    ]
    assert kinds == (["digest"] if cached_tile else ["digest", "tile"]), warm


def test_revoking_the_grant_through_django_takes_effect_at_once(session_client, inspector):
    from accounts.models import Position

    assert _components(session_client.get(URL)) > 0
    Position.objects.get(key="pos-inspector-q").layers.clear()
    assert session_client.get(URL).status_code == 404  # a layer one cannot read does not exist


def test_deactivating_the_user_takes_effect_at_once(client, session_client, bearer, inspector):
    assert _components(session_client.get(URL)) > 0
    anonymous = client.__class__().get(URL).status_code
    inspector.is_active = False
    inspector.save(update_fields=["is_active"])
    assert session_client.get(URL).status_code == anonymous
    client.logout()
    refused = client.get(URL, **bearer)
    assert refused.status_code == 401 and "disabled" in refused.json()["error"]["message"]


def test_a_password_change_ends_the_session_and_revokes_tokens(
    client, session_client, bearer, inspector
):
    assert _components(session_client.get(URL)) > 0
    assert _components(client.get(URL, **bearer)) > 0
    anonymous = client.__class__().get(URL).status_code
    inspector.set_password("another-Secret-2026!")
    inspector.save()
    assert session_client.get(URL).status_code == anonymous
    client.logout()
    refused = client.get(URL, **bearer)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]


def _revoke_by_sql():
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM accounts_position_layers WHERE position_id = "
            "(SELECT id FROM accounts_position WHERE key = 'pos-inspector-q')"
        )


def _deactivate_by_sql(user):
    with connection.cursor() as cur:
        cur.execute("UPDATE auth_user SET is_active = false WHERE id = %s", [user.pk])


@functools.cache
def _new_password_hash() -> str:
    """Hashed once, before the timed part of a test: hashing takes longer than the lifetime
    on a busy machine."""
    from django.contrib.auth.hashers import make_password

    return make_password("another-Secret-2026!")


def _password_by_sql(user):
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE auth_user SET password = %s WHERE id = %s", [_new_password_hash(), user.pk]
        )
        cur.execute("UPDATE accounts_apitoken SET revoked_at = now() WHERE user_id = %s", [user.pk])


@pytest.mark.parametrize(
    "change", [_revoke_by_sql, _deactivate_by_sql, _password_by_sql], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("how", ["session", "bearer"])
def test_changes_django_does_not_see_take_effect_within_the_lifetime(
    how, change, client, session_client, bearer, inspector
):
    """As a change made by another worker process: no signal here, only the lifetime."""
    headers = bearer if how == "bearer" else {}
    if how == "bearer":
        client.logout()
    anonymous = client.__class__().get(URL).status_code
    _new_password_hash()
    with override_settings(CITYGRID_AUTH_CACHE_SECONDS=0.3):
        assert _components(client.get(URL, **headers)) > 0
        if change is _revoke_by_sql:
            change()
        else:
            change(inspector)
        assert _components(client.get(URL, **headers)) > 0  # still the cached rows
        time.sleep(0.35)
        refused = client.get(URL, **headers)
    assert refused.status_code in ({401, 404} if how == "bearer" else {anonymous, 404})
    assert refused.status_code != 200


@override_settings(CITYGRID_AUTH_CACHE_SECONDS=0)
def test_with_no_lifetime_every_request_reads_the_rows(client, session_client, inspector):
    assert _components(session_client.get(URL)) > 0
    _revoke_by_sql()
    assert session_client.get(URL).status_code == 404
    _, queries = _queries(session_client)
    assert any("django_session" in q for q in queries)
    assert any("auth_user" in q for q in queries)
