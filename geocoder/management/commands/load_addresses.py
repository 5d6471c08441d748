"""`manage.py load_addresses FILE`: load door addresses, roads, compounds, POIs or an OSM
extract into the geocoder's address database as a named, versioned source."""

from __future__ import annotations


from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import command_scope
from core.context import Origin, origin
from core.errors import ApiError
from core.jobs import wait_for
from core.models import Job
from geocoder.actions import do_load_addresses
from geocoder.sources.jobs import EXTENT_CHECKS, KINDS, LoadOptions


class Command(BaseCommand):
    help = (
        "Load an address source (地址数据源) from any file the layer import reads (zipped "
        "Shapefile, GeoJSON, GeoPackage, KML, CSV) or an OSM extract. Loading a source again "
        "replaces its previous version in one transaction. Runs as a Celery job; --sync runs "
        "it in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--kind", choices=KINDS, default="", help="default: osm for .osm/.pbf, else doors"
        )
        parser.add_argument(
            "--map",
            default="",
            help="field mapping FIELD=COLUMN, e.g. 路名=ROAD,门牌号=NO (fields: 路名 门牌号 "
            "楼牌号 小区名 单位名称 沿街铺面 地名 地址 别名 类型 道路等级 左起号 左止号 右起号 "
            "右止号 起始门牌 终止门牌); columns already named so need no mapping",
        )
        parser.add_argument("--crs", default="", help="source CRS: EPSG:4548, gcj02, bd09, ...")
        parser.add_argument("--source", default="", help="source name (default: file name)")
        parser.add_argument("--layer", default="", help="GeoPackage/KML layer, Shapefile in a zip")
        parser.add_argument("--format", default="")
        parser.add_argument("--x", default="", help="CSV longitude column")
        parser.add_argument("--y", default="", help="CSV latitude column")
        parser.add_argument("--wkt", default="", help="CSV WKT column")
        parser.add_argument("--extent-check", choices=EXTENT_CHECKS, default="city")
        parser.add_argument("--sync", action="store_true", help="run in this process")
        parser.add_argument(
            "--user",
            default="",
            help="act as this person (their permissions, logged under their name); "
            "default: the system actor command:load_addresses",
        )
        parser.add_argument("--timeout", type=float, default=3600)

    def handle(self, *args, **opts):
        options = LoadOptions(
            source=opts["source"],
            kind=opts["kind"],
            mapping=opts["map"],
            crs=opts["crs"],
            layer=opts["layer"],
            format=opts["format"],
            x=opts["x"],
            y=opts["y"],
            wkt=opts["wkt"],
            extent_check=opts["extent_check"],
        )
        try:
            with origin(Origin(via="command")):
                scope = command_scope("load_addresses", opts["user"])
                job = do_load_addresses(scope, opts["file"], None, options, sync=opts["sync"])
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        if not opts["sync"]:
            try:
                job = wait_for(job, opts["timeout"])
            except TimeoutError as exc:
                raise CommandError(str(exc)) from exc
        if job.state != Job.State.SUCCEEDED:
            message = "; ".join(e.get("message", "") for e in job.errors) or job.state
            raise CommandError(f"load failed: {message}")
        report = job.report
        if opts["verbosity"] > 0:
            counts = ", ".join(f"{v} {k}" for k, v in report["counts"].items() if v)
            self.stdout.write(
                f"source {report['source']} v{report['version']} ({report['kind']}): "
                f"loaded {counts or 'nothing'}; refused {report['refused']}, skipped "
                f"{report['skipped']}, in {report['seconds']} s"
            )
            for refusal in report["refusals"][:10]:
                self.stdout.write(f"  refused row {refusal['row']}: {refusal['reason']}")
        return None
