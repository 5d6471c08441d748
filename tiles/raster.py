"""Raster tiles (影像切片): a registered GeoTIFF warped to Web Mercator and cut into PNG tiles.

Each tile is a `WarpedVRT` whose output grid *is* the tile (256×256 pixels over the tile's
3857 bounds), so GDAL reads only the source pixels under the tile, at the overview that fits.
Nodata (or the source's mask) becomes transparent alpha.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tiles.sql import tile_bounds

TILE_PIXELS = 256


def raster_bounds_3857(path: str | Path) -> tuple[float, float, float, float]:
    """Gives the raster's bounds in EPSG:3857."""
    from rasterio.warp import transform_bounds
    import rasterio

    with rasterio.open(path) as src:
        return transform_bounds(src.crs, "EPSG:3857", *src.bounds, densify_pts=21)


def raster_bounds_4326(path: str | Path) -> tuple[float, float, float, float]:
    """Gives the raster's bounds in EPSG:4326 (lon/lat)."""
    from rasterio.warp import transform_bounds
    import rasterio

    with rasterio.open(path) as src:
        return transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)


def _rgba(data: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Gives 4×H×W uint8 RGBA from 1, 2 (grey+alpha), 3 or 4 source bands."""
    if data.dtype != np.uint8:
        valid = data[:, alpha > 0]
        lo, hi = (float(valid.min()), float(valid.max())) if valid.size else (0.0, 1.0)
        scale = 255.0 / (hi - lo) if hi > lo else 1.0
        data = np.clip((data.astype("float64") - lo) * scale, 0, 255).astype(np.uint8)
    if data.shape[0] >= 3:
        rgb = data[:3]
    else:
        rgb = np.repeat(data[:1], 3, axis=0)
    return np.concatenate([rgb, alpha[np.newaxis].astype(np.uint8)], axis=0)


def png_tile(path: str | Path, z: int, x: int, y: int) -> bytes:
    """Gives the PNG of tile z/x/y of the raster at `path`, or b"" when the tile misses it."""
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile
    from rasterio.transform import from_bounds
    from rasterio.vrt import WarpedVRT
    import rasterio

    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    rminx, rminy, rmaxx, rmaxy = raster_bounds_3857(path)
    if maxx <= rminx or minx >= rmaxx or maxy <= rminy or miny >= rmaxy:
        return b""
    transform = from_bounds(minx, miny, maxx, maxy, TILE_PIXELS, TILE_PIXELS)
    with rasterio.open(path) as src:
        nodata = src.nodata
        with WarpedVRT(
            src,
            crs="EPSG:3857",
            transform=transform,
            width=TILE_PIXELS,
            height=TILE_PIXELS,
            resampling=Resampling.bilinear if z > 14 else Resampling.nearest,
            nodata=nodata if nodata is not None else 0,
            src_nodata=nodata,
        ) as vrt:
            bands = [b for b in range(1, min(src.count, 4) + 1)]
            data = vrt.read(bands)
            mask = vrt.dataset_mask()
            if src.count in (2, 4):
                # An explicit alpha band in the source wins over the mask.
                mask = np.minimum(mask, data[-1])
                data = data[:-1] if src.count == 4 else data[:1]
    if not mask.any():
        return b""
    rgba = _rgba(data, mask)
    with MemoryFile() as mem:
        with mem.open(
            driver="PNG", width=TILE_PIXELS, height=TILE_PIXELS, count=4, dtype="uint8"
        ) as dst:
            dst.write(rgba)
        return mem.read()
