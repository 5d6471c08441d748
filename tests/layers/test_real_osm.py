"""Real OSM extracts (../shared/data/osm) import without errors as roads, POIs and buildings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from spatial.layers import jobs
from spatial.layers.importer import ImportOptions
from spatial.models import Layer

OSM_DIR = Path(settings.BASE_DIR).parent / "shared" / "data" / "osm"
FILES = sorted(OSM_DIR.glob("*.osm")) if OSM_DIR.is_dir() else []

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not FILES, reason="../shared/data/osm is absent"),
]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@pytest.mark.parametrize("layer", ["roads", "pois", "buildings"])
def test_osm_extract_imports(upload_dir, path, layer):
    # The Shanghai extract lies outside the configured (Beijing) city: check only "in China".
    check = "city" if "beijing" in path.stem else "china"
    key = f"{path.stem[:20]}-{layer}"
    job = jobs.start_import(
        path, None, ImportOptions(key=key, layer=layer, extent_check=check), sync=True
    )
    if layer != "roads" and job.state == "failed" and "no features" in job.errors[0]["message"]:
        pytest.skip(f"{path.name} has no {layer}")
    assert job.state == "succeeded", job.errors
    registered = Layer.objects.get(key=key)
    assert registered.feature_count == job.report["rows_written"] > 0
    assert job.report["skipped_no_geometry"] == 0
    with connection.cursor() as cur:
        cur.execute(f'SELECT bool_and(ST_IsValid(geom)) FROM layers."{registered.table_name}"')
        assert cur.fetchone()[0] is True
    if layer == "roads":
        assert registered.geometry_type == "MultiLineString"
        assert "highway" in {f["name"] for f in registered.fields}
    if layer == "buildings":
        assert registered.geometry_type == "MultiPolygon"
