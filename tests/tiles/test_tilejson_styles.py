"""TileJSON 3.0.0 and MapLibre styles, checked with the third-party validators."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.tiles.conftest import LAT0, LON0, make_user

SHARED = Path("/work/shared")
SCHEMA = SHARED / "schemas" / "tilejson-3.0.0.schema.json"
TOOLS = SHARED / "tools" / "thirdparty"


def validate_tilejson(doc: dict, tmp_path: Path, raster: bool = False) -> str:
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(doc) if not raster else None
    if not (TOOLS / "tilejson_check.py").exists():
        return "skipped"
    path = tmp_path / "tile.json"
    path.write_text(json.dumps(doc))
    out = subprocess.run(
        ["/work/main/.venv/bin/python", str(TOOLS / "tilejson_check.py"), str(path)]
        + (["--raster"] if raster else []),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_tilejson_of_a_layer_is_valid_and_describes_it(client, town, tmp_path):
    doc = client.get("/tiles/unit_grids.json").json()
    assert validate_tilejson(doc, tmp_path).startswith(("OK", "skipped"))
    assert doc["tiles"] == ["http://testserver/tiles/unit_grids/{z}/{x}/{y}.mvt"]
    assert doc["minzoom"] == 12
    lon_min, lat_min, lon_max, lat_max = doc["bounds"]
    assert lon_min == pytest.approx(LON0) and lat_min == pytest.approx(LAT0)
    (vl,) = doc["vector_layers"]
    assert vl["id"] == "unit_grids" and vl["fields"] == {"code": "String", "area_m2": "Number"}


def test_tilejson_of_a_composite_and_of_aggregates(client, town, tmp_path):
    client.force_login(make_user("tj-admin", superuser=True))
    doc = client.get("/tiles/districts,roads,components,components_hex.json").json()
    validate_tilejson(doc, tmp_path)
    ids = [v["id"] for v in doc["vector_layers"]]
    assert ids == ["districts", "roads", "components", "components_hex"]
    assert doc["vector_layers"][2]["fields"]["point_count"] == "Number"
    assert doc["vector_layers"][3]["fields"] == {"count": "Number"}


def test_tilejson_refuses_what_tiles_refuse(client, town):
    private = client.get("/tiles/components.json")
    unknown = client.get("/tiles/nothing.json")
    # A private layer is as absent as an unknown one: the answers do not tell them apart.
    assert private.status_code == unknown.status_code == 404
    assert private.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"


def style_check(style: dict, tmp_path: Path) -> str:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not available for gl-style-validate")
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style))
    out = subprocess.run(
        ["bash", str(TOOLS / "style_check.sh"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = (out.stdout.strip().splitlines() or [""])[-1]
    if out.returncode == 2 and "npm install" in last:
        pytest.skip("npm registry unreachable: " + last)
    assert out.returncode == 0, out.stdout + out.stderr
    return last


@pytest.mark.parametrize("variant", ["light", "dark"])
def test_base_style_validates_and_holds_only_readable_layers(client, town, tmp_path, variant):
    style = client.get(f"/styles/base.json?variant={variant}").json()
    assert style_check(style, tmp_path).startswith("OK")
    keys = {layer["metadata"]["citygrid:layer"] for layer in style["layers"] if "metadata" in layer}
    assert "components" not in keys and {"districts", "unit_grids", "roads"} <= keys
    tiles_url = style["sources"]["citygrid"]["tiles"][0]
    assert "components" not in tiles_url


def test_admin_style_has_clusters_and_heat_layer(client, town, tmp_path):
    client.force_login(make_user("style-admin", superuser=True))
    style = client.get("/styles/base.json?variant=dark").json()
    style_check(style, tmp_path)
    ids = {x["id"] for x in style["layers"]}
    assert {"components-cluster", "components-point", "components_hex-fill"} <= ids
    assert {"unit_grids-fill", "unit_grids-line", "roads-line"} <= ids
    assert style["layers"][0]["paint"]["background-color"] == "#0b1622"


def test_theme_styles_follow_the_registry(client, town, tmp_path):
    from spatial.models import Layer, Theme, ThemeLayer

    theme = Theme.objects.create(key="grid-work", title="网格专题")
    ThemeLayer.objects.create(theme=theme, layer=Layer.objects.get(key="unit_grids"), order=1)
    ThemeLayer.objects.create(
        theme=theme, layer=Layer.objects.get(key="roads"), order=2, visible=False
    )
    style = client.get("/styles/grid-work.json").json()
    style_check(style, tmp_path)
    roads = next(x for x in style["layers"] if x["id"] == "roads-line")
    assert roads["layout"]["visibility"] == "none"
    assert client.get("/styles/nope.json").status_code == 404
    assert client.get("/styles/base.json?variant=pink").status_code == 400


def test_tile_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert "/tiles/{layers}.json" in doc["paths"] and "/styles/{theme}.json" in doc["paths"]
