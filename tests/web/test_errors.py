"""Errors every endpoint shares: NUL characters never reach SQL, and the OpenAPI document
describes the JSON error responses of every operation."""

import json

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/layers?group=a%00b",
        "/api/v1/geocode?q=%E5%AD%A6%00%E9%99%A2",
        "/ogc/collections?x%00=1",
        "/api/v1/locate?lon=116.35&lat=40.0%00",
    ],
)
def test_nul_in_the_query_is_bad_input(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_input"


@pytest.mark.django_db
def test_nul_in_a_json_body_is_bad_input_not_a_server_error(client):
    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": "ad\u0000min", "password": "x\u0000"}),
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.django_db
def test_every_operation_documents_its_json_errors(client):
    document = client.get("/api/v1/openapi.json").json()
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                checked += 1
                for status in ("400", "401", "403", "404"):
                    assert status in operation["responses"], (method, path, status)
    assert checked > 10, "the document lists (almost) no operations"


@pytest.mark.django_db
def test_a_time_offset_postgresql_cannot_hold_is_still_the_same_instant(client):
    """Python accepts UTC offsets up to ±23:59, PostgreSQL only ±15:59 (schemathesis found it)."""
    far = client.get("/api/v1/locate?lon=116.35&lat=40.0&at=2026-06-20T16:47:46%2B21:59")
    near = client.get("/api/v1/locate?lon=116.35&lat=40.0&at=2026-06-19T18:48:46%2B00:00")
    assert far.status_code == near.status_code == 200
    assert far.json()["placement"] == near.json()["placement"]
