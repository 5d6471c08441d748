"""Re-importing a layer swaps the whole table at once: a reader polling during the import sees
the old row count or the new one, never a part."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import psycopg2
import pytest
import shapely
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_delete_layer, do_import_layer
from spatial.layers import registry

from spatial.layers.importer import ImportOptions
from spatial.models import Layer

from .conftest import LAT0, LON0


def points_file(tmp_path, n: int, name: str):
    rng = np.random.default_rng(n)
    frame = gpd.GeoDataFrame(
        {"n": np.arange(n)},
        geometry=shapely.points(
            LON0 + rng.uniform(-0.05, 0.05, n), LAT0 + rng.uniform(-0.05, 0.05, n)
        ),
        crs="EPSG:4326",
    )
    path = tmp_path / f"{name}.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return path


@pytest.mark.django_db(transaction=True)
def test_reimport_swaps_atomically(tmp_path, upload_dir):
    first = do_import_layer(
        system_scope("test"),
        points_file(tmp_path, 1000, "a"),
        None,
        ImportOptions(key="swap"),
        sync=True,
    )
    assert first.state == "succeeded", first.errors
    params = connection.get_connection_params()
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader():
        conn = psycopg2.connect(**params)
        conn.autocommit = True
        with conn.cursor() as cur:
            while not stop.is_set():
                try:
                    cur.execute("SELECT count(*) FROM layers.swap")
                    seen.append(cur.fetchone()[0])
                except psycopg2.Error as exc:
                    errors.append(str(exc))
        conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        second = do_import_layer(
            system_scope("test"),
            points_file(tmp_path, 60_000, "b"),
            None,
            ImportOptions(key="swap"),
            sync=True,
        )
    finally:
        stop.set()
        thread.join()
    assert second.state == "succeeded", second.errors
    assert second.report["replaced"] is True
    assert set(seen) <= {1000, 60_000} and 1000 in seen
    assert not errors
    layer = Layer.objects.get(key="swap")
    assert layer.feature_count == 60_000 and layer.version > 1
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'layers' "
            "AND tablename LIKE 'swap%%'"
        )
        assert [r[0] for r in cur.fetchall()] == ["swap"]
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'layers' "
            "AND tablename = 'swap' ORDER BY 1"
        )
        assert [r[0] for r in cur.fetchall()] == [
            "swap_geom_gist",
            "swap_geom_mercator_gist",
            "swap_pkey",
        ]


@pytest.mark.django_db(transaction=True)
def test_keys_that_make_the_same_table_name_keep_separate_tables(tmp_path, upload_dir):
    """`a-b` and `a_b` once shared one table: the second import replaced the first layer's
    rows, and deleting one dropped the other's table."""
    first = do_import_layer(
        system_scope("test"),
        points_file(tmp_path, 10, "x"),
        None,
        ImportOptions(key="twin-key"),
        sync=True,
    )
    second = do_import_layer(
        system_scope("test"),
        points_file(tmp_path, 20, "y"),
        None,
        ImportOptions(key="twin_key"),
        sync=True,
    )
    assert first.state == second.state == "succeeded", (first.errors, second.errors)
    a, b = Layer.objects.get(key="twin-key"), Layer.objects.get(key="twin_key")
    assert a.table_name != b.table_name
    assert (a.feature_count, b.feature_count) == (10, 20)
    do_delete_layer(system_scope("test"), b)
    a = registry.refresh_stats(Layer.objects.get(key="twin-key"))
    assert a.feature_count == 10
