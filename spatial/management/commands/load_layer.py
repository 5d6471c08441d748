"""`manage.py load_layer FILE`: import a vector file as a managed layer or into core geography."""

from __future__ import annotations


from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.scoping import command_scope
from core.context import Origin, origin
from spatial.actions import do_import_layer
from spatial.layers.core_targets import TARGETS
from spatial.layers.geometry import INVALID_MODES, MIXED_MODES
from spatial.layers.importer import EXTENT_CHECKS, ImportOptions
from core.errors import ApiError
from core.jobs import wait_for
from core.models import Job


class Command(BaseCommand):
    help = (
        "Import a zipped Shapefile, GeoJSON, GeoPackage, KML, CSV or OSM file as a managed layer "
        "(default) or into core geography (--as). Runs as a Celery job and shows its progress; "
        "--sync runs it in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as", dest="target", choices=["managed", *TARGETS], default="managed")
        parser.add_argument("--crs", default="", help="source CRS: EPSG:4548, gcj02, bd09, ...")
        parser.add_argument("--map", default="", help="core field mapping: code=BGID,name=MC")
        parser.add_argument(
            "--layer", default="", help="GeoPackage/KML layer; OSM: roads, pois or buildings"
        )
        parser.add_argument("--key", default="", help="managed layer key (default: file name)")
        parser.add_argument("--title", default="")
        parser.add_argument("--public", action="store_true")
        parser.add_argument("--invalid", choices=INVALID_MODES, default="repair")
        parser.add_argument("--mixed", choices=MIXED_MODES, default="refuse")
        parser.add_argument("--format", default="")
        parser.add_argument("--x", default="", help="CSV longitude column")
        parser.add_argument("--y", default="", help="CSV latitude column")
        parser.add_argument("--wkt", default="", help="CSV WKT column")
        parser.add_argument(
            "--extent-check",
            choices=EXTENT_CHECKS,
            default="city",
            help="city (default), china (any Chinese city) or off",
        )
        parser.add_argument("--purpose", default="")
        parser.add_argument("--group", default="")
        parser.add_argument(
            "--level",
            choices=["district", "street", "community"],
            default="",
            help="admin_areas: the level of every row whose code is not a standard one",
        )
        parser.add_argument(
            "--create-parents",
            action="store_true",
            help="admin_areas: create the district of streets that lie in none (their union)",
        )
        parser.add_argument(
            "--district-code", default="", help="the 6-digit code of the district to create"
        )
        parser.add_argument("--district-name", default="", help="its name (default: the code)")
        parser.add_argument("--sync", action="store_true", help="run in this process")
        parser.add_argument(
            "--user",
            default="",
            help="act as this person (their permissions, logged under their name); "
            "default: the system actor command:load_layer",
        )
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, *args, **opts):
        options = ImportOptions(
            target=opts["target"],
            key=opts["key"],
            title=opts["title"],
            crs=opts["crs"],
            mapping=opts["map"],
            layer=opts["layer"],
            format=opts["format"],
            x=opts["x"],
            y=opts["y"],
            wkt=opts["wkt"],
            public=opts["public"],
            invalid=opts["invalid"],
            mixed=opts["mixed"],
            extent_check=opts["extent_check"],
            purpose=opts["purpose"],
            group=opts["group"],
            level=opts["level"],
            create_parents=opts["create_parents"],
            district_code=opts["district_code"],
            district_name=opts["district_name"],
        )
        try:
            with origin(Origin(via="command")):
                scope = command_scope("load_layer", opts["user"])
                job = do_import_layer(scope, opts["file"], None, options, sync=opts["sync"])
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        if not opts["sync"]:
            job = self._wait(job, opts["timeout"], opts["verbosity"] > 0)
        if job.state != Job.State.SUCCEEDED:
            message = "; ".join(e.get("message", "") for e in job.errors) or job.state
            raise CommandError(f"import failed: {message}")
        report = job.report
        if opts["verbosity"] > 0:
            self.stdout.write(
                f"imported {report.get('rows_written')} features "
                f"({report.get('geometry_type')}, from {report.get('crs')}) into "
                f"{report.get('layer') or report.get('target')} in {report.get('seconds')} s; "
                f"repaired {report.get('repaired', 0)}, dropped Z/M {report.get('dropped_z_m')}, "
                f"skipped {report.get('skipped_no_geometry', 0) + report.get('skipped_invalid', 0)}"
            )
            for line in [*report.get("merged", []), *report.get("created_parents", [])]:
                self.stdout.write(line)
            for line in report.get("warnings", []):
                self.stdout.write(self.style.WARNING(f"warning: {line}"))
        return None

    def _wait(self, job: Job, timeout: float, show: bool) -> Job:
        bar = tqdm(total=None, unit="rows", disable=not show, desc="import")

        def show_progress(job: Job) -> None:
            if job.rows_total and bar.total != job.rows_total:
                bar.total = job.rows_total
            bar.n = job.rows_done
            bar.refresh()

        try:
            return wait_for(job, timeout, show_progress)
        except TimeoutError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
