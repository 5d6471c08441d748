"""`manage.py load_raster FILE --key KEY --title TITLE`: register a GeoTIFF as an imagery layer."""

from pathlib import Path

import rasterio
from django.core.management.base import BaseCommand, CommandError

from spatial.models import Layer
from tiles import raster


class Command(BaseCommand):
    help = "Registers a GeoTIFF as a raster (imagery, 影像) layer served as PNG tiles."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--key", required=True)
        parser.add_argument("--title", required=True)
        parser.add_argument("--public", action="store_true")
        parser.add_argument("--min-zoom", type=int, default=0)
        parser.add_argument("--max-zoom", type=int, default=22)

    def handle(self, *args, **opts):
        path = Path(opts["file"]).resolve()
        try:
            with rasterio.open(path) as src:
                if src.crs is None:
                    raise CommandError(f"{path} has no CRS")
                bands, dtype = src.count, src.dtypes[0]
        except rasterio.errors.RasterioIOError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        bounds = [round(v, 7) for v in raster.raster_bounds_4326(path)]
        layer, created = Layer.objects.get_or_create(
            key=opts["key"],
            defaults={"title": opts["title"], "kind": Layer.Kind.RASTER},
        )
        if layer.kind != Layer.Kind.RASTER:
            raise CommandError(f"layer {layer.key} exists and is not a raster layer")
        layer.title = opts["title"]
        layer.raster_path = str(path)
        layer.extent = bounds
        layer.public = opts["public"]
        layer.purpose = Layer.Purpose.IMAGERY
        layer.min_zoom, layer.max_zoom = opts["min_zoom"], opts["max_zoom"]
        layer.table_name, layer.geometry_type = "", "Raster"
        layer.version = layer.version + (0 if created else 1)
        layer.save()
        verb = "registered" if created else "updated"
        self.stdout.write(
            f"{verb} raster layer {layer.key}: {bands} band(s) {dtype}, bounds {bounds}"
        )
