"""Benchmark: import N points from a CSV as a managed layer (read, check, convert, COPY, index,
swap), end to end through the same job the command and the API start.

    CITYGRID_PG_DB=layers_bench .venv/bin/python bench/import_points.py [--rows 1000000]
        [--crs EPSG:4548] [--keep]

Prints the phase timings from the job report and the rows per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from django.conf import settings  # noqa: E402

from spatial import crs as crs_module  # noqa: E402
from accounts.scoping import system_scope  # noqa: E402
from spatial.actions import do_import_layer  # noqa: E402
from spatial.layers import registry  # noqa: E402
from spatial.layers.importer import ImportOptions  # noqa: E402
from spatial.models import Layer  # noqa: E402


def make_csv(path: Path, rows: int, crs: str) -> None:
    """Writes `rows` random points within ±0.2° of the city centre, in `crs`."""
    rng = np.random.default_rng(1)
    lon0, lat0 = settings.CITY_CENTER
    lon = lon0 + rng.uniform(-0.2, 0.2, rows)
    lat = lat0 + rng.uniform(-0.2, 0.2, rows)
    x, y = crs_module.from_wgs84_array(lon, lat, crs)
    pd.DataFrame(
        {
            "x": np.round(x, 7),
            "y": np.round(y, 7),
            "name": np.char.add("井盖", np.arange(rows).astype(str)),
            "kind": rng.choice(["雨水", "污水", "电力", "通信"], rows),
            "depth": np.round(rng.uniform(0.5, 3.0, rows), 2),
        }
    ).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--crs", default="EPSG:4326")
    parser.add_argument("--keep", action="store_true", help="keep the layer afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.csv"
        started = time.monotonic()
        make_csv(path, args.rows, args.crs)
        print(
            f"wrote {args.rows} rows ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.monotonic() - started:.1f} s"
        )
        started = time.monotonic()
        job = do_import_layer(
            system_scope("bench"),
            path,
            None,
            ImportOptions(key="bench-points", crs=args.crs, x="x", y="y"),
            sync=True,
        )
        elapsed = time.monotonic() - started
    if job.state != "succeeded":
        raise SystemExit(f"import failed: {job.errors}")
    report = job.report
    print(
        f"imported {report['rows_written']} points from {args.crs} in {elapsed:.1f} s "
        f"({report['rows_written'] / elapsed:,.0f} rows/s)"
    )
    print("phases (s):", report["timings_s"])
    if not args.keep:
        registry.delete_layer(Layer.objects.get(key="bench-points"))


if __name__ == "__main__":
    main()
