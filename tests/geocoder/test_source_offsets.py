"""Address sources get the layer import's offset check: a door table in GCJ-02 loaded without
`crs` is refused naming GCJ-02; with `crs=auto` its doors land where they are."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command

from geocoder.models import AddressSource, DoorAddress
from spatial.models import RoadSegment
from tests.reference import from_wgs84, metres


def door_rows(
    spacing_m: float = 60.0, offset_m: float = 12.0
) -> list[tuple[str, int, float, float]]:
    """(road name, number, lon, lat) of doors `offset_m` beside every named demo road segment,
    placed with plain local metres (independent of the code under test)."""
    rows = []
    for name, geom in RoadSegment.objects.exclude(name="").values_list("name", "geom")[:120]:
        line = shapely.from_wkb(bytes(geom.wkb))
        lat = line.centroid.y
        per_lon, per_lat = 111_320 * np.cos(np.radians(lat)), 110_574
        metric = shapely.transform(line, lambda xy: xy * [per_lon, per_lat])
        d = spacing_m / 2
        while d < metric.length:
            a, b = metric.interpolate(d), metric.interpolate(min(d + 1, metric.length))
            ux, uy = b.x - a.x, b.y - a.y
            norm = (ux * ux + uy * uy) ** 0.5 or 1.0
            lon = (a.x - uy / norm * offset_m) / per_lon
            lat_ = (a.y + ux / norm * offset_m) / per_lat
            rows.append((name, 2 * len(rows) + 1, lon, lat_))
            d += spacing_m
    return rows


def write_gcj02(rows, path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["路名", "门牌号", "x", "y"])
        for name, number, lon, lat in rows:
            writer.writerow([name, number, *from_wgs84(lon, lat, "gcj02")])


@pytest.mark.django_db
def test_a_gcj02_door_table_is_refused_without_crs_and_placed_with_auto(city, tmp_path):
    rows = door_rows()
    assert len(rows) >= 50, "the demo city has named roads to put doors beside"
    path = tmp_path / "doors-gcj02.csv"
    write_gcj02(rows, path)
    options = {"kind": "doors", "map": "路名=路名,门牌号=门牌号", "x": "x", "y": "y"}

    with pytest.raises(CommandError, match="GCJ-02"):
        call_command(
            "load_addresses", str(path), source="gcj-doors", sync=True, verbosity=0, **options
        )
    assert not DoorAddress.objects.filter(source__name="gcj-doors").exists()

    call_command(
        "load_addresses",
        str(path),
        source="gcj-doors",
        sync=True,
        verbosity=0,
        crs="auto",
        **options,
    )
    source = AddressSource.objects.get(name="gcj-doors")
    assert source.counts.get("doors", 0) >= len(rows) * 0.9
    placed = {(d.road.name, d.number): d.geom for d in DoorAddress.objects.filter(source=source)}
    checked = 0
    for name, number, lon, lat in rows[::7]:
        geom = placed.get((name, number))
        if geom is not None:
            assert metres(geom.x, geom.y, lon, lat) < 2.0, (name, number)
            checked += 1
    assert checked >= 5
