"""Tile seeding (预生成切片): build a zoom range of a layer's tiles into the cache, as a Job; and
the beat that keeps the area cells of scoped cluster tiles (tiles.cells.sync_area_cells)."""

from __future__ import annotations

import mercantile
from celery import shared_task

from tiles import cache, service
from core.jobs import JobRun, dispatch, job_task, new_job
from core.models import Job

MAX_SEED_TILES = 200_000


def _corners(bbox: list[float], z: int) -> tuple[mercantile.Tile, mercantile.Tile]:
    """Gives the top-left and bottom-right tiles of bbox at zoom z, as `mercantile.tiles` does
    (the east and south edges just inside, so a tile's own bounds give that one tile)."""
    west, south, east, north = bbox
    west, south = max(-180.0, west), max(-85.051129, south)
    east, north = min(180.0, east), min(85.051129, north)
    top_left = mercantile.tile(west, north, z)
    bottom_right = mercantile.tile(east - mercantile.LL_EPSILON, south + mercantile.LL_EPSILON, z)
    return top_left, bottom_right


def tiles_in_bbox(bbox: list[float], zmin: int, zmax: int):
    """Yields (z, x, y) of every tile from zmin to zmax touching bbox [minlon, minlat, maxlon,
    maxlat]."""
    for tile in mercantile.tiles(*bbox, range(zmin, zmax + 1)):
        yield tile.z, tile.x, tile.y


def count_tiles(bbox: list[float], zmin: int, zmax: int) -> int:
    """Gives how many tiles `tiles_in_bbox` yields, without listing them."""
    total = 0
    for z in range(zmin, zmax + 1):
        top_left, bottom_right = _corners(bbox, z)
        total += (bottom_right.x - top_left.x + 1) * (bottom_right.y - top_left.y + 1)
    return total


def start_seed(layer: str, zmin: int, zmax: int, bbox: list[float] | None, scope) -> Job:
    """Gives a new seeding Job (validated) and queues it on Celery."""
    from core.errors import BadInput

    from spatial.models import Layer

    names = service.split_keys(layer)
    known = set(Layer.objects.filter(key__in=names).values_list("key", flat=True))
    if known != set(names):
        raise BadInput(f"no such layer: {sorted(set(names) - known)[0]}", field="layer")
    service.check_address(zmin, 0, 0)
    service.check_address(zmax, 0, 0)
    if zmin > zmax:
        raise BadInput("zmin must not exceed zmax", field="zmin")
    box = list(bbox) if bbox else [-180.0, -85.0511, 180.0, 85.0511]
    if len(box) != 4 or box[0] > box[2] or box[1] > box[3]:
        raise BadInput("bbox is minlon,minlat,maxlon,maxlat", field="bbox")
    total = count_tiles(box, zmin, zmax)
    if total > MAX_SEED_TILES:
        raise BadInput(f"{total} tiles; seed at most {MAX_SEED_TILES} at once", field="bbox")
    job = new_job(
        "seed_tiles",
        scope,
        {"layer": layer, "zmin": zmin, "zmax": zmax, "bbox": box},
        rows_total=total,
    )
    return dispatch(job, seed_tiles)


def run_seed(run: JobRun) -> dict:
    """Builds every tile of the job's layer, zoom range and bbox into the cache, as the job's
    owner sees them (tiles of public layers are shared with every caller); gives the report."""
    p = run.job.params
    built = reused = empty = 0
    items = service.resolve(service.split_keys(p["layer"]), run.scope)
    for n, (z, x, y) in enumerate(tiles_in_bbox(p["bbox"], p["zmin"], p["zmax"]), 1):
        etag = service.tile_etag(items, run.scope, z, x, y, "mvt", {})
        data = cache.get(etag)
        if data is None:
            data = service.build(items, run.scope, {}, z, x, y)
            cache.put(etag, data)
            built += 1
        else:
            reused += 1
        empty += not data
        run.progress(n)
    run.progress(built + reused, run.job.rows_total)
    return {"built": built, "reused": reused, "empty": empty, "cache": cache.enabled()}


seed_tiles = job_task("tiles.seed_tiles", run_seed)


@shared_task(name="tiles.sync_area_cells", ignore_result=True)
def sync_area_cells() -> dict:
    """Builds the area cell sets of areas that came into use and drops those nobody holds."""
    from tiles.cells import sync_area_cells as sync

    return sync()
