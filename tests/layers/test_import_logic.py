"""The import's hard logic, directly: identifier sanitising, geometry typing, CRS guessing,
pixel tolerance, upload names (with hypothesis where the input space is wide)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from spatial.layers import files, geometry, transform
from spatial.layers.identify import tolerance_metres
from spatial.layers.readers import RESERVED, column_names
from core.errors import BadInput

from tests import reference

from .conftest import LAT0, LON0


@given(st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=30))
def test_column_names_are_unique_safe_identifiers(names):
    out = column_names(names)
    assert len(out) == len(names) and len(set(out)) == len(out)
    for name in out:
        assert name and name not in RESERVED and len(name.encode()) <= 63
        assert not name[0].isdigit() and '"' not in name and " " not in name


@given(
    st.lists(st.tuples(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01)), min_size=1, max_size=30),
    st.booleans(),
)
def test_points_keep_their_count_and_one_type(offsets, with_multi):
    geoms = [shapely.Point(LON0 + dx, LAT0 + dy) for dx, dy in offsets]
    if with_multi:
        geoms.append(shapely.MultiPoint([(LON0, LAT0), (LON0 + 0.001, LAT0)]))
    prepared = geometry.prepare(np.array(geoms, dtype=object))
    assert prepared.geometry_type == ("MultiPoint" if with_multi else "Point")
    types = set(shapely.get_type_id(prepared.geoms[prepared.keep]).tolist())
    assert types == ({4} if with_multi else {0})
    assert prepared.keep.sum() == len(geoms)


@given(st.integers(1, 20), st.integers(0, 20))
def test_polygons_promote_to_multipolygon(singles, multis):
    box = shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)
    geoms = np.array([box] * singles + [shapely.MultiPolygon([box])] * multis, dtype=object)
    prepared = geometry.prepare(geoms)
    assert prepared.geometry_type == "MultiPolygon"
    assert set(shapely.get_type_id(prepared.geoms).tolist()) == {6}
    assert np.allclose(shapely.area(prepared.geoms), shapely.area(box))


@hsettings(max_examples=30, deadline=None)
@given(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3))
def test_gauss_kruger_values_are_recognised(dx, dy):
    lon, lat = np.array([LON0 + dx]), np.array([LAT0 + dy])
    box = (LON0 - 1, LAT0 - 1, LON0 + 1, LAT0 + 1)
    for code in ("EPSG:4548", "EPSG:4527", "EPSG:3857"):
        x, y = reference.from_wgs84_array(lon, lat, code)
        assert code in transform.likely_crs(np.column_stack([x, y]), box)
    assert "lat/lon swapped" in transform.likely_crs(np.column_stack([lat, lon]), box)


@given(st.floats(0, 100), st.floats(0, 22), st.floats(-85, 85))
def test_tolerance_halves_per_zoom(px, zoom, lat):
    assert tolerance_metres(px, zoom + 1, lat) == pytest.approx(
        tolerance_metres(px, zoom, lat) / 2, rel=1e-9, abs=1e-12
    )


def test_gcj02_offset_is_reported():
    # GCJ-02 moves points a few hundred metres, still inside the city box, so the job report
    # states the offset's size near the city for the admin to judge.
    assert 100 < transform.gcj02_offset_metres() < 1000


def test_upload_names_stay_inside_the_upload_dir(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    work = files.new_work_dir()
    for name in ("../../escape.csv", "/etc/passwd", "..\\..\\win.csv", ".hidden", "名称.csv"):
        path = files.save_upload(io.BytesIO(b"x"), name, work)
        assert files.inside(settings.UPLOAD_DIR, path) and path.parent == work
    assert not (tmp_path / "escape.csv").exists()


def test_unsupported_file_crs_still_converts(tmp_path):
    # A .prj in a CRS spatial.crs does not name (UTM 50N) is handled by pyproj directly.
    source = transform.resolve_source_crs("EPSG:32650", None, "shapefile")
    assert source.wkt is not None
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32650, always_xy=True).transform(LON0, LAT0)
    out = transform.to_wgs84(np.array([shapely.Point(x, y)], dtype=object), source)
    assert shapely.get_coordinates(out)[0] == pytest.approx([LON0, LAT0], abs=1e-8)
    with pytest.raises(BadInput):
        transform.resolve_source_crs(None, None, "shapefile")
