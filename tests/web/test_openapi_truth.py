"""What a fuzzer (schemathesis, from /api/v1/openapi.json) found untrue between the OpenAPI
document and the server: each behaviour bug now answers as documented, and the document states
the rules the server keeps (content types, status codes, closed bodies, text without NUL)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from accounts import permissions as perms
from tests import factories

pytestmark = pytest.mark.django_db


def error_of(response, status: int) -> dict:
    """Gives the JSON error of a response that must have `status` and the project's shape."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def operation(document: dict, path: str, method: str = "get") -> dict:
    return document["paths"][path][method]


def parameter(document: dict, path: str, name: str, method: str = "get") -> dict:
    found = [p for p in operation(document, path, method)["parameters"] if p["name"] == name]
    assert found, f"{method} {path} documents no parameter {name}"
    return found[0]


@pytest.fixture
def manager(db) -> Client:
    """A client signed in as a person who may do everything."""
    person = factories.make_person(
        "truth-manager", permissions=sorted(perms.ALL_PERMISSIONS), all_layers=True
    )
    client = Client(raise_request_exception=False)
    client.force_login(person.user)
    client.person = person
    return client


def post_json(client: Client, path: str, body, method: str = "post"):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


# --- behaviour: input the document refuses is refused -----------------------------------------


def test_an_unknown_layer_kind_is_bad_input(city, document):
    assert "bogus" not in parameter(document, "/api/v1/layers", "kind")["schema"]["enum"]
    error = error_of(Client().get("/api/v1/layers?kind=bogus"), 400)
    assert error["field"] == "kind"
    assert Client().get("/api/v1/layers?kind=core").status_code == 200


@pytest.mark.parametrize(
    "query, field",
    [
        ("offset=null", "offset"),
        ("offset=-1", "offset"),
        ("limit=0", "limit"),
        ("limit=x", "limit"),
    ],
)
def test_paging_parameters_that_are_no_such_integer_are_bad_input(manager, query, field):
    """They were the default before: `offset=null` answered the first page."""
    assert error_of(manager.get(f"/api/v1/people?{query}"), 400)["field"] == field


def test_a_limit_above_the_most_is_served_at_the_most(manager, document):
    described = parameter(document, "/api/v1/people", "limit")["schema"]
    assert described["minimum"] == 1 and "maximum" not in described
    response = manager.get("/api/v1/people?limit=100000&offset=0")
    assert response.status_code == 200 and "results" in response.json()


def test_form_encoded_bodies_are_refused_with_415(manager):
    """Only JSON is documented: a form could not carry the lists and nulls the body has."""
    response = manager.post("/api/v1/positions", {"key": "formed", "name": "formed"})
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    response = manager.post(
        "/api/v1/departments",
        "code=F&name=formed",
        content_type="application/x-www-form-urlencoded",
    )
    error_of(response, 415)


def test_a_duplicate_key_conflicts_with_stored_data(manager):
    """A well-formed key that is already taken is a 409, as the database's own unique index
    answers it: not a 400, which says the request itself is wrong."""
    body = {"key": "twice", "name": "twice"}
    assert post_json(manager, "/api/v1/positions", body).status_code == 201
    error = error_of(post_json(manager, "/api/v1/positions", body), 409)
    assert error["code"] == "conflict" and error["field"] == "key"
    taken = error_of(post_json(manager, "/api/v1/people", {"username": "truth-manager"}), 409)
    assert taken["field"] == "username"


def test_a_reference_to_nothing_conflicts_with_stored_data(manager):
    body = {"key": "dangling", "name": "dangling", "layers": ["no-such-layer"]}
    error = error_of(post_json(manager, "/api/v1/positions", body), 409)
    assert error["code"] == "conflict" and error["field"] == "layers"


@pytest.mark.parametrize("field", ["title", "description"])
def test_theme_texts_must_be_strings(city, manager, field):
    """`{"description": {}}` was stored as the text "{}"."""
    body = {"key": "texts", "title": "Texts", field: {}}
    error = error_of(post_json(manager, "/api/v1/themes", body), 400)
    assert error["field"] == field


def test_the_map_title_must_be_a_string(city, manager):
    error = error_of(post_json(manager, "/api/v1/map-config", {"title": {}}, "put"), 400)
    assert error["field"] == "title"


def test_my_area_is_null_for_a_person_without_areas(db, document):
    person = factories.make_person("no-area", permissions=[])
    client = Client()
    client.force_login(person.user)
    body = client.get("/api/v1/me").json()
    assert body["area"] is None
    assert document["components"]["schemas"]["Me"]["properties"]["area"]["nullable"] is True


def test_log_pages_are_documented_as_pages(manager, document):
    responses = operation(document, "/api/v1/logs/logins")["responses"]["200"]["content"]
    assert set(responses) == {"application/json", "text/csv"}
    page = document["components"]["schemas"]["LoginLogPage"]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    body = manager.get("/api/v1/logs/logins").json()
    assert set(body) == {"count", "next", "previous", "results"}
    csv = manager.get("/api/v1/logs/logins?format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")


# --- the document: what it now says -----------------------------------------------------------


def test_ogc_features_are_documented_as_geojson(document):
    for path in ("/ogc/collections/{key}/items", "/ogc/collections/{key}/items/{fid}"):
        assert set(operation(document, path)["responses"]["200"]["content"]) == {
            "application/geo+json"
        }
    bbox = parameter(document, "/ogc/collections/{key}/items", "bbox")
    assert (bbox["style"], bbox["explode"]) == ("form", False)
    assert (bbox["schema"]["minItems"], bbox["schema"]["maxItems"]) == (4, 6)
    offset = parameter(document, "/ogc/collections/{key}/items", "offset")
    assert offset["schema"]["minimum"] == 0


def test_ogc_items_answer_geojson(city):
    response = Client().get("/ogc/collections/districts/items?limit=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")


def test_export_documents_each_file_type(document):
    content = operation(document, "/api/v1/layers/{key}/export")["responses"]["200"]["content"]
    assert {"application/geo+json", "application/zip", "application/geopackage+sqlite3"} <= set(
        content
    )


def test_every_operation_documents_its_errors(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op["responses"]
            assert {"400", "401", "403", "404", "503"} <= set(responses), (method, path)
            assert set(responses["414"]["content"]) == {"text/html"}, (method, path)
            if method != "get":
                assert "409" in responses, (method, path)
            if "requestBody" in op:
                assert "415" in responses, (method, path)


def test_free_text_parameters_refuse_nul(document, city):
    """The server refuses NUL in every text (PostgreSQL cannot hold it): the document says so."""
    described = parameter(document, "/api/v1/auth/throttled", "username", "delete")["schema"]
    assert not re.fullmatch(described["pattern"].replace("\\u0000", "\x00"), "a\x00b")
    assert re.fullmatch(described["pattern"].replace("\\u0000", "\x00"), "anyone")
    assert error_of(Client().get("/api/v1/layers?group=a%00b"), 400)["code"] == "bad_input"


def test_closed_bodies_say_so(document):
    schemas = document["components"]["schemas"]
    for name in ("ThemeRequest", "PatchedThemeEditRequest", "PatchedLayerPatchRequest"):
        assert schemas[name]["additionalProperties"] is False, name


def test_the_map_config_body_states_its_shapes(document):
    body = document["components"]["schemas"]["MapConfigRequest"]["properties"]
    assert (body["extent"]["minItems"], body["extent"]["maxItems"]) == (4, 4)
    assert (body["center"]["minItems"], body["center"]["maxItems"]) == (2, 2)
    assert document["components"]["schemas"]["TileSizeEnum"]["enum"] == [256, 512]


@pytest.mark.parametrize(
    "layers, accepted",
    [
        ("districts", True),
        ("districts,grids", True),
        (" districts , grids ", True),
        ("__main__", False),
        ("", False),
        ("a,,b", False),
        ("Districts", False),
        (",".join(f"l{i}" for i in range(17)), False),
    ],
)
def test_tilejson_layer_names_are_documented_as_split_keys_reads_them(document, layers, accepted):
    from core.errors import BadInput
    from tiles.service import split_keys

    pattern = parameter(document, "/tiles/{layers}.json", "layers")["schema"]["pattern"]
    assert bool(re.fullmatch(pattern, layers)) is accepted
    try:
        split_keys(layers)
        read = True
    except BadInput:
        read = False
    assert read is accepted


@pytest.mark.parametrize(
    "crs, accepted",
    [("", True), ("EPSG:4326", True), ("epsg:3857", True), ("4547", True), ("GCJ-02", True)]
    + [("bd09ll", True), ("EPSG:2000", False), ("wgs", False)],
)
def test_the_crs_pattern_is_what_parse_crs_reads(crs, accepted):
    from core.errors import BadInput
    from spatial.crs import CRS_PARAMETER_SCHEMA, parse_crs

    assert bool(re.fullmatch(CRS_PARAMETER_SCHEMA["pattern"], crs)) is accepted
    try:
        parse_crs(crs)
        read = True
    except BadInput:
        read = False
    assert read is accepted


def test_identify_needs_a_layer_name(document, city):
    pattern = parameter(document, "/api/v1/identify", "layers")["schema"]["pattern"]
    pattern = pattern.replace("\\u0000", "\x00")
    assert not re.fullmatch(pattern, " , ")
    assert re.fullmatch(pattern, "districts")
    error = error_of(Client().get("/api/v1/identify?lon=116.35&lat=40&layers=,"), 400)
    assert error["field"] == "layers"


@pytest.mark.parametrize("order", ["x", 1.5, True, 2**31])
def test_a_theme_layer_order_must_be_an_integer(city, manager, order):
    """A text order reached the integer column: a 500."""
    body = {"key": "ordered", "title": "Ordered", "layers": [{"key": "districts", "order": order}]}
    assert error_of(post_json(manager, "/api/v1/themes", body), 400)["field"] == "layers"


def test_a_theme_naming_no_layer_conflicts_with_stored_data(city, manager):
    body = {"key": "dangling", "title": "Dangling", "layers": ["no-such-layer"]}
    assert error_of(post_json(manager, "/api/v1/themes", body), 409)["field"] == "layers"


@pytest.mark.parametrize(
    "key, accepted",
    [("night", True), ("Night_2", True), ("a-_-b", True), ("a--b", False), ("_a", False)]
    + [("a-", False), ("é", False), ("a b", False), ("x" * 64, False)],
)
def test_theme_keys_are_documented_as_the_server_reads_them(city, manager, document, key, accepted):
    described = document["components"]["schemas"]["ThemeRequest"]["properties"]["key"]
    matches = bool(re.fullmatch(described["pattern"], key)) and len(key) <= described["maxLength"]
    assert matches is accepted
    response = post_json(manager, "/api/v1/themes", {"key": key, "title": "Keyed"})
    assert response.status_code == (201 if accepted else 400), response.content


@pytest.mark.parametrize("title", ["   ", "\x1c", "\u3000", "\ufeffx", "ok"])
def test_theme_titles_are_documented_as_the_server_reads_them(city, manager, document, title):
    described = document["components"]["schemas"]["ThemeRequest"]["properties"]["title"]
    pattern = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), described["pattern"])
    accepted = bool(re.search(pattern, title))
    response = post_json(manager, "/api/v1/themes", {"key": "titled", "title": title})
    assert response.status_code == (201 if accepted else 400), response.content


@pytest.mark.parametrize(
    "value",
    ["2026-05-01", "2026-05-01T08:30:00+08:00", "2026-05-01T08:30Z", "../2026-05-01", "2026-05-01/"]
    + ["2026-05-01T08:30:00.5 08:00/..", "_e", "2026-13-01", "2026-05-01T24:00", "1/2"],
)
def test_the_ogc_datetime_pattern_admits_only_what_interval_reads(document, value):
    from core import params
    from core.errors import BadInput

    pattern = parameter(document, "/ogc/collections/{key}/items", "datetime")["schema"]["pattern"]
    if re.fullmatch(pattern, value):
        params.interval({"datetime": value})  # no BadInput
    else:
        with pytest.raises(BadInput):
            params.interval({"datetime": value})


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/positions", {"key": "typed", "name": "typed", "menus": [0]}, "menus"),
        ("/api/v1/roles", {"key": "typed", "name": "typed", "grids": {}}, "grids"),
        ("/api/v1/departments", {"code": "T", "name": "typed", "area": ""}, "area"),
        ("/api/v1/departments", {"code": "T", "name": "typed", "parent": "1"}, "parent"),
        ("/api/v1/people", {"username": 5}, "username"),
    ],
)
def test_body_values_must_have_their_documented_json_type(manager, path, body, field):
    """DRF read a number as text, a dict as the list of its keys, "" as null and "5" as an id."""
    error = error_of(post_json(manager, path, body), 400)
    assert error["field"] == field, error


def test_a_layer_group_must_be_text(city, manager):
    error = error_of(post_json(manager, "/api/v1/layers/districts", {"group": 0}, "patch"), 400)
    assert error["field"] == "group"


def test_a_nul_in_a_free_form_object_is_named(manager):
    """A NUL in a jsonb value was a DataError: a 400 that named no field."""
    body = '{"key": "n", "name": "n", "columns": {"a\\u0000b": 1}}'
    response = manager.post("/api/v1/positions", body, content_type="application/json")
    assert error_of(response, 400)["field"] == "columns"


def test_a_nul_in_a_property_the_server_ignores_is_no_error(manager):
    """Bodies are open (unknown properties are ignored), but the operation log stored them in
    jsonb, which refused a NUL in a key: a 400 for a request the document admits."""
    from accounts.models import OperationLog

    body = '{"code": "N", "name": "n", "x\\u0000": "y\\u0000"}'
    response = manager.post("/api/v1/departments", body, content_type="application/json")
    assert response.status_code == 201, response.content
    logged = OperationLog.objects.filter(path="/api/v1/departments").latest("id")
    assert logged.details.get("x\ufffd") == "y\ufffd", logged.details


def test_log_bounds_are_documented_as_postgresql_reads_them(manager, document):
    pattern = parameter(document, "/api/v1/logs/logins", "since")["schema"]["pattern"]
    assert re.fullmatch(pattern, "2026-05-01T08:30:00+08:00")
    assert not re.fullmatch(pattern, "9392-11-30T22:08:36+23:56")
    assert manager.get("/api/v1/logs/logins?since=2026-05-01T08:30:00%2B08:00").status_code == 200


def test_applying_a_role_documents_one_person_or_more(document):
    body = document["components"]["schemas"]["ApplyRoleRequest"]["properties"]["people"]
    assert body["type"] == "array" and body["minItems"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"key": "typed", "name": "typed", "all_layers": 0}, "all_layers"),
        ({"key": "typed", "name": "typed", "sort_order": "1"}, "sort_order"),
        ({"key": "typed", "name": "typed", "sort_order": 1.5}, "sort_order"),
    ],
)
def test_booleans_and_numbers_must_be_json_ones(manager, body, field):
    assert error_of(post_json(manager, "/api/v1/positions", body), 400)["field"] == field
    assert (
        post_json(
            manager, "/api/v1/positions", {**body, field: 1 if field == "sort_order" else True}
        ).status_code
        == 201
    )


def test_a_log_error_is_json_even_when_csv_was_asked_for(manager, document):
    """The CSV renderer wrote the error as a CSV row; the JSON error middleware then replaced
    it with a bare "Bad Request" naming no field."""
    error = error_of(manager.get("/api/v1/logs/operations?format=csv&since=0000-01-01"), 400)
    assert error["field"] == "since"
    pattern = parameter(document, "/api/v1/logs/operations", "since")["schema"]["pattern"]
    assert not re.fullmatch(pattern, "0000-01-01") and re.fullmatch(pattern, "")
    assert manager.get("/api/v1/logs/operations?since=").status_code == 200


def test_a_log_person_is_documented_as_an_id(manager, document):
    described = parameter(document, "/api/v1/logs/logins", "person")["schema"]
    assert (described["minimum"], described["maximum"]) == (0, 10**18 - 1)
    assert error_of(manager.get("/api/v1/logs/logins?person=-1"), 400)["field"] == "person"
