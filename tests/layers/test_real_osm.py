"""Real OSM extracts (../shared/data/osm) import without errors as roads, POIs and buildings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer

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
    job = do_import_layer(
        system_scope("test"),
        path,
        None,
        ImportOptions(key=key, layer=layer, extent_check=check),
        sync=True,
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


def test_osm_roads_into_core_road_segments(upload_dir):
    from spatial.models import RoadSegment

    path = next((p for p in FILES if "beijing" in p.stem), None)
    if path is None:
        pytest.skip("the Beijing extract is absent")
    before = RoadSegment.objects.count()
    job = do_import_layer(
        system_scope("test"),
        path,
        None,
        ImportOptions(target="roads", layer="roads", mapping="road_class=highway,source_id=osm_id"),
        sync=True,
    )
    assert job.state == "succeeded", job.errors
    added = RoadSegment.objects.filter(source_id__gt="").exclude(source_id="")
    assert RoadSegment.objects.count() - before == job.report["rows_written"] > 0
    assert job.report["skipped_unnamed"] > 0
    assert added.filter(road_class="main").exists()
    assert Layer.objects.get(key="roads").feature_count == RoadSegment.objects.count()
