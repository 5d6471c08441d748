"""The spatial endpoints as a client sees them: /locate, /health, /stats/census, OpenAPI."""

import json

import pytest
from drf_spectacular.validation import validate_schema

from tests.reference import from_wgs84


def test_locate_answers_the_placement_with_input_and_wgs84_point(admin_client, small_city):
    # A system admin sees every part; anonymous callers see public layers only (test_locate_scope).
    response = admin_client.get(
        "/api/v1/locate", {"lon": "121.405", "lat": "31.2203", "at": "2026-03-02T23:00:00+08:00"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["input"] == {"x": 121.405, "y": 31.2203, "crs": "EPSG:4326"}
    assert body["wgs84"] == {"lon": 121.405, "lat": 31.2203}
    placement = body["placement"]
    assert placement["district"] == {"code": "310104", "name": "测试区"}
    assert placement["street"]["code"] == "310104001"
    assert placement["community"] == {"code": "310104001002", "name": "北社区"}
    assert placement["unit_grid"] == small_city.cells[(0, 2)].code
    assert placement["responsibility_grid"]["code"] == small_city.resp["C2"].code
    assert placement["timing_zone"] == {"kind": "outer", "name": "外围"}
    assert placement["road"]["name"] == "中山路" and 30 < placement["road"]["distance_m"] < 36
    assert placement["at"] == "2026-03-02T23:00:00+08:00"


def test_locate_with_a_naive_time_reads_it_as_beijing_time(admin_client, small_city):
    api = admin_client  # controlled areas are not public
    body = api.get(
        "/api/v1/locate", {"lon": 121.405, "lat": 31.205, "at": "2026-03-02T23:00"}
    ).json()
    assert sorted(a["name"] for a in body["placement"]["controlled_areas"]) == ["夜市", "学校周边"]
    # "+" in an unencoded query string arrives as a space; it still means the offset.
    response = api.get("/api/v1/locate?lon=121.405&lat=31.205&at=2026-03-02T12:00:00+08:00")
    assert [a["name"] for a in response.json()["placement"]["controlled_areas"]] == ["学校周边"]


@pytest.mark.parametrize("code", ["gcj02", "BD09", "EPSG:3857", "EPSG:4528", "EPSG:4549", "4490"])
def test_locate_accepts_every_crs_and_lands_in_the_same_grid(api, small_city, code):
    lon, lat = 121.4355, 31.2155
    x, y = from_wgs84(lon, lat, code)
    body = api.get("/api/v1/locate", {"lon": repr(x), "lat": repr(y), "crs": code}).json()
    assert body["placement"]["unit_grid"] == small_city.cells[(3, 1)].code
    assert body["wgs84"]["lon"] == pytest.approx(lon, abs=1e-7)
    assert body["wgs84"]["lat"] == pytest.approx(lat, abs=1e-7)


def test_point_outside_the_city_answers_200_with_null_fields(api, small_city):
    response = api.get("/api/v1/locate", {"lon": 100.0, "lat": 30.0})
    assert response.status_code == 200
    placement = response.json()["placement"]
    for key in (
        "district",
        "street",
        "community",
        "unit_grid",
        "responsibility_grid",
        "timing_zone",
        "road",
    ):
        assert placement[key] is None
    assert placement["controlled_areas"] == []


@pytest.mark.parametrize(
    "params,field",
    [
        ({"lat": "31"}, "lon"),
        ({"lon": "121"}, "lat"),
        ({"lon": "", "lat": "31"}, "lon"),
        ({"lon": "abc", "lat": "31"}, "lon"),
        ({"lon": "NaN", "lat": "31"}, "lon"),
        ({"lon": "121", "lat": "inf"}, "lat"),
        ({"lon": "181", "lat": "31"}, "lon"),
        ({"lon": "121", "lat": "-91"}, "lat"),
        ({"lon": "121", "lat": "31", "crs": "EPSG:32650"}, "crs"),
        ({"lon": "121", "lat": "31", "crs": "wgs84'; drop table x"}, "crs"),
        ({"lon": "121", "lat": "31", "at": "tomorrow"}, "at"),
        ({"lon": "121", "lat": "31", "at": "2026-13-40T25:00"}, "at"),
        ({"lon": "121", "lat": "31", "at": "0001-01-01T00:00:00+08:00"}, "at"),
        ({"lon": "121", "lat": "31", "at": "9999-12-31T23:59:59-08:00"}, "at"),
        ({"lon": "0", "lat": "0", "crs": "EPSG:4548"}, "lon"),
    ],
)
def test_malformed_locate_requests_answer_400_naming_the_field(api, db, params, field):
    response = api.get("/api/v1/locate", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_input" and error["field"] == field and error["message"]


def test_health_reports_database_postgis_redis_and_celery(api, db):
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["database"]["postgis"].split(".")[0] == "3"
    assert body["redis"]["ok"] is True
    assert body["status"] in ("ok", "degraded")
    assert body["status"] == ("ok" if body["celery"]["workers"] else "degraded")


def test_health_sees_a_running_celery_worker(api, celery_worker):
    body = api.get("/api/v1/health").json()
    assert body["celery"]["ok"] is True and body["celery"]["workers"]
    assert body["status"] == "ok"


def test_health_of_an_unreachable_database_is_failed(db):
    import socket

    from django.db import connections

    from spatial.health import health

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    default = connections["default"]
    unreachable = default.__class__(
        {**default.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}, alias="unreachable"
    )
    report = health(unreachable)
    assert report["status"] == "failed"
    assert report["database"]["ok"] is False and "OperationalError" in report["database"]["error"]
    assert report["redis"]["ok"] is True


def test_overall_status_rules():
    from spatial.health import overall_status

    up, down = {"ok": True}, {"ok": False}
    assert overall_status(up, up, up) == "ok"
    assert overall_status(up, up, down) == "degraded"
    assert overall_status(up, down, down) == "degraded"
    assert overall_status(down, up, up) == "failed"


def test_census_endpoint_for_the_city_and_an_area(admin_client, small_city):
    api = admin_client  # components are not public: anonymous callers get null counts
    city = api.get("/api/v1/stats/census")
    assert city.status_code == 200 and city.json()["area"] is None
    street = api.get("/api/v1/stats/census", {"area": "310104002"})
    assert street.status_code == 200
    body = street.json()
    assert body["area"]["level"] == "street"
    assert body["unit_grids"]["count"] == 8 and body["components"]["count"] == 4
    assert body["bbox"] == pytest.approx([121.42, 31.20, 121.44, 31.24])


def test_locate_at_any_representable_time_answers_rfc3339(api, small_city):
    body = api.get("/api/v1/locate", {"lon": 121.405, "lat": 31.205, "at": "0226-06-15T22:32:45Z"})
    assert body.status_code == 200
    at = body.json()["placement"]["at"]
    assert at == "0226-06-15T22:32:45+00:00"  # LMT offsets (+08:05:43) are written in UTC


def test_census_endpoint_errors(api, db):
    missing = api.get("/api/v1/stats/census", {"area": "999999"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "area"
    for bad in ("abc", ""):
        malformed = api.get("/api/v1/stats/census", {"area": bad})
        assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "area"


def all_refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def test_openapi_document_is_self_contained_valid_and_covers_these_endpoints(api, db):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    validate_schema(document)
    refs = list(all_refs(document))
    assert refs and all(ref.startswith("#/") for ref in refs)
    paths = document["paths"]
    for path in ("/api/v1/locate", "/api/v1/health", "/api/v1/stats/census"):
        assert "200" in paths[path]["get"]["responses"], path
    locate_params = {p["name"] for p in paths["/api/v1/locate"]["get"]["parameters"]}
    assert locate_params == {"lon", "lat", "crs", "at"}
    placement = document["components"]["schemas"]["Placement"]["properties"]
    assert {"unit_grid", "responsibility_grid", "controlled_areas", "road"} <= set(placement)
