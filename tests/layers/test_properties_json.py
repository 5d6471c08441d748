"""Nested GeoJSON properties (objects, arrays) are stored as JSON and come back as JSON through
the OGC API and export, not as Python text such as "{'adcode': 330100}"."""

from __future__ import annotations

import json

import pyogrio
import pytest
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer
from spatial.layers.importer import ImportOptions

from .conftest import LAT0, LON0, all_features

pytestmark = pytest.mark.django_db

PROPERTIES = [
    {
        "name": "西湖区",
        "center": [120.17, 30.25],
        "parent": {"adcode": 330100, "name": "杭州市"},
        "tags": ["a", "b\\c"],
        "levels": [1, 2],
        "mixed": [1, "x", None, {"k": "\t"}],
    },
    {
        "name": "拱墅区",
        "center": None,
        "parent": {"adcode": 330100},
        "tags": ["c"],
        "levels": [3],
        "mixed": "plain text",
    },
]


def nested_file(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": [LON0 + 0.001 * i, LAT0]},
        }
        for i, props in enumerate(PROPERTIES)
    ]
    path = tmp_path / "nested.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    )
    return path


def test_nested_properties_come_back_as_json(admin_client, tmp_path):
    job = do_import_layer(
        system_scope("test"),
        nested_file(tmp_path),
        None,
        ImportOptions(key="nested", public=True),
        sync=True,
    )
    assert job.state == "succeeded", job.errors
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'layers' AND table_name = 'nested'"
        )
        types = dict(cur.fetchall())
    assert types["parent"] == types["center"] == types["levels"] == "json", types
    # GDAL reads a property that is an array in one feature and a string in another as text
    # holding the JSON as written: JSON text too, never Python's repr.
    assert types["name"] == types["mixed"] == "text", types

    features = sorted(all_features(admin_client, "nested"), key=lambda f: f["id"])
    for feature, want in zip(features, PROPERTIES):
        got = feature["properties"]
        assert {k: v for k, v in got.items() if k != "mixed"} == {
            k: v for k, v in want.items() if k != "mixed"
        }
    assert json.loads(features[0]["properties"]["mixed"]) == PROPERTIES[0]["mixed"]
    assert features[1]["properties"]["mixed"] == "plain text"

    exported = admin_client.get("/api/v1/layers/nested/export", {"format": "geojson"})
    assert exported.status_code == 200
    rows = json.loads(b"".join(exported.streaming_content))["features"]
    got = {row["properties"]["name"]: row["properties"] for row in rows}
    for want in PROPERTIES:
        for key in ("center", "parent", "tags", "levels"):
            value = got[want["name"]][key]
            assert (json.loads(value) if isinstance(value, str) else value) == want[key], key


def test_nested_properties_export_as_json_text_to_geopackage(admin_client, tmp_path):
    job = do_import_layer(
        system_scope("test"),
        nested_file(tmp_path),
        None,
        ImportOptions(key="nested-gpkg", public=True),
        sync=True,
    )
    assert job.state == "succeeded", job.errors
    exported = admin_client.get("/api/v1/layers/nested-gpkg/export", {"format": "gpkg"})
    assert exported.status_code == 200
    path = tmp_path / "out.gpkg"
    path.write_bytes(b"".join(exported.streaming_content))
    frame = pyogrio.read_dataframe(path)
    row = frame[frame["name"] == "西湖区"].iloc[0]
    for key in ("center", "parent", "tags", "levels"):
        value = row[key]
        assert (json.loads(value) if isinstance(value, str) else value) == PROPERTIES[0][key], key
