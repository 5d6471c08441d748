"""manage.py demo_city: generates the deterministic demo city (演示城区) into the database."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from data.demo_city import generate
from data.demo_city.admin_codes import DEFAULT_DISTRICT
from data.demo_city.store import coded_rows, delete_city, write_plan
from spatial import routing
from spatial.models import AdminArea, UnitGrid


def parse_center(value: str) -> tuple[float, float]:
    """LON,LAT inside mainland China's rough bounds, as floats."""
    try:
        lon_s, lat_s = value.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError as exc:
        raise CommandError(f"--center must be LON,LAT, got {value!r}") from exc
    if not (73.0 <= lon <= 135.5 and 18.0 <= lat <= 53.6):
        raise CommandError(f"--center {value} is not in mainland China")
    return lon, lat


MAX_SCALE = 40


class Command(BaseCommand):
    help = (
        "Generate the demo city: a realistic Chinese urban district (streets, communities, unit "
        "and responsibility grids, roads, components, addresses). Same seed and scale give the "
        "same rows. Scale 1 is about 2,000 unit grids and 50,000 components; the area grows with "
        "the scale (scale 20: about 40,000 grids and 1M components)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument(
            "--center", type=str, default=None, help="LON,LAT (default: settings.CITY_CENTER)"
        )
        parser.add_argument(
            "--district",
            type=str,
            default=DEFAULT_DISTRICT,
            help="real 6-digit district code whose streets are used",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            dest="if_empty",
            help="do nothing when unit grids exist",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the existing city first (in the same transaction)",
        )

    def handle(
        self,
        *args,
        seed=1,
        scale=1.0,
        center=None,
        district=DEFAULT_DISTRICT,
        if_empty=False,
        replace=False,
        verbosity=1,
        **options,
    ):
        if not 0 < scale <= MAX_SCALE:
            # beyond this, street trees (0402) outgrow the 6-digit CJ/T 214 serial
            raise CommandError(f"--scale must be in (0, {MAX_SCALE}]")
        if isinstance(center, str):
            center = parse_center(center)
        if if_empty and UnitGrid.objects.exists():
            if verbosity >= 1:
                self.stdout.write("demo city: unit grids exist, nothing to do (--if-empty)")
            return
        if if_empty:
            replace = True  # no grids: whatever else is there (admin areas) is regenerated
        if not replace and (UnitGrid.objects.exists() or AdminArea.objects.exists()):
            raise CommandError(
                "the database already holds a city; pass --replace to regenerate it "
                "or --if-empty to keep it"
            )
        started = time.monotonic()
        try:
            plan = generate(seed=seed, scale=scale, center=center, district_code=str(district))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        generated = time.monotonic()
        try:
            with transaction.atomic():
                if replace:
                    delete_city(coded_rows(plan))
                counts = write_plan(plan)
                counts["road graph edges"] = routing.rebuild_graph()
        except IntegrityError as exc:
            raise CommandError(
                f"other data still refers to the old city, nothing changed: {exc}"
            ) from exc
        done = time.monotonic()
        if verbosity >= 1:
            self.stdout.write(
                f"demo city seed={seed} scale={scale}: generated in {generated - started:.1f} s, "
                f"stored in {done - generated:.1f} s"
            )
            for table, n in counts.items():
                self.stdout.write(f"  {table:22s} {n:>9,d}")
