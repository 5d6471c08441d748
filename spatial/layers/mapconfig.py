"""Gives the map configuration (地图配置: extent, initial centre and zoom, CRS, resolutions) and
themes (专题: named, ordered sets of layers with visibility), seeded lazily with defaults
computed from the districts layer."""

from __future__ import annotations

import math
import re

from django.conf import settings
from django.db import transaction

from spatial.models import Layer, MapConfig, Theme, ThemeLayer
from core.errors import BadInput, Conflict, NotFound

from . import registry

WEB_MERCATOR_ORIGIN_RES = 156_543.033_928_041  # metres per pixel at zoom 0, 256-pixel tiles
DEFAULT_THEME = "base"
# A theme key is its own slug (django.utils.text.slugify keeps it as it is, case aside): ASCII
# letters, digits, underscores and hyphens, never two hyphens together, a letter or digit at
# each end.
THEME_KEY_RE = re.compile(r"^[A-Za-z0-9]((_|-_)*-?[A-Za-z0-9])*$")
THEME_KEY_MAX = 63
INT32 = (-(2**31), 2**31 - 1)  # a theme layer's order (an integer column)
BASE_LAYERS = ("districts", "streets", "communities", "roads", "unit_grids")
CONFIG_FIELDS = (
    "title",
    "extent",
    "center",
    "zoom",
    "min_zoom",
    "max_zoom",
    "crs",
    "tile_size",
    "resolutions",
    "default_theme",
)


def resolutions(tile_size: int, min_zoom: float = 0, max_zoom: float = 22) -> list[float]:
    """Gives metres per pixel for each integer zoom of Web Mercator at `tile_size`."""
    base = WEB_MERCATOR_ORIGIN_RES * 256 / tile_size
    return [round(base / 2**z, 6) for z in range(int(min_zoom), int(max_zoom) + 1)]


def _district_extent() -> list[float] | None:
    layer = Layer.objects.filter(key="districts").first()
    if layer is None:
        return None
    layer = registry.refresh_stats(layer)
    return layer.extent


def default_config() -> MapConfig:
    """Gives the default map configuration, created on first use from the districts' extent
    (or the configured city centre when there are no districts yet)."""
    config = MapConfig.objects.filter(name="default").select_related("default_theme").first()
    if config is not None:
        return config
    extent = _district_extent()
    if not extent:
        lon, lat = settings.CITY_CENTER
        extent = [lon - 0.25, lat - 0.2, lon + 0.25, lat + 0.2]
    center = [round((extent[0] + extent[2]) / 2, 6), round((extent[1] + extent[3]) / 2, 6)]
    width_deg = max(extent[2] - extent[0], 1e-6)
    zoom = max(0.0, min(18.0, math.floor(math.log2(360 * 1024 / (width_deg * 512)))))
    config, _ = MapConfig.objects.get_or_create(
        name="default",
        defaults={
            "title": "default",
            "extent": [round(v, 6) for v in extent],
            "center": center,
            "zoom": zoom,
            "crs": "EPSG:3857",
            "tile_size": 512,
            "resolutions": resolutions(512, 0, 20),
            "default_theme": base_theme(),
        },
    )
    return config


def describe_config(config: MapConfig) -> dict:
    """Gives the JSON the web map reads."""
    return {
        "name": config.name,
        "title": config.title,
        "extent": config.extent,
        "center": config.center,
        "zoom": config.zoom,
        "min_zoom": config.min_zoom,
        "max_zoom": config.max_zoom,
        "crs": config.crs,
        "tile_size": config.tile_size,
        "resolutions": config.resolutions,
        "default_theme": config.default_theme.key if config.default_theme else None,
        "purposes": purposes(),
        "updated_at": config.updated_at.isoformat() if config.updated_at else None,
    }


def purposes() -> dict[str, list[str]]:
    """Gives {purpose: [layer keys]} (图层用途配置): which layer plays which role."""
    out: dict[str, list[str]] = {}
    for key, purpose in Layer.objects.exclude(purpose="").values_list("key", "purpose"):
        out.setdefault(purpose, []).append(key)
    return out


def update_config(changes: dict) -> MapConfig:
    """Gives the default map configuration after validated edits."""
    config = default_config()
    unknown = sorted(set(changes) - set(CONFIG_FIELDS))
    if unknown:
        raise BadInput(f"cannot set {', '.join(unknown)}", field=unknown[0])
    for name in ("title", "default_theme"):
        value = changes.get(name, "")
        if not isinstance(value, str) and not (name == "default_theme" and value is None):
            raise BadInput(f"{name} must be a string", field=name)
    if "extent" in changes:
        _check_numbers(changes["extent"], 4, "extent")
        minx, miny, maxx, maxy = changes["extent"]
        if (
            minx >= maxx
            or miny >= maxy
            or not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90)
        ):
            raise BadInput("extent must be [minlon, minlat, maxlon, maxlat]", field="extent")
    if "center" in changes:
        _check_numbers(changes["center"], 2, "center")
    for name in ("zoom", "min_zoom", "max_zoom"):
        if name in changes:
            _check_numbers([changes[name]], 1, name)
            if not 0 <= changes[name] <= 24:
                raise BadInput(f"{name} must be within 0..24", field=name)
    if "crs" in changes and changes["crs"] not in ("EPSG:3857", "EPSG:4326", "EPSG:4490"):
        raise BadInput("crs must be EPSG:3857, EPSG:4326 or EPSG:4490", field="crs")
    if "tile_size" in changes and changes["tile_size"] not in (256, 512):
        raise BadInput("tile_size must be 256 or 512", field="tile_size")
    if "resolutions" in changes:
        values = changes["resolutions"]
        if not isinstance(values, list):
            raise BadInput("resolutions must be a list of numbers", field="resolutions")
        _check_numbers(values, len(values), "resolutions")
        if any(b >= a for a, b in zip(values, values[1:])) or any(v <= 0 for v in values):
            raise BadInput("resolutions must be positive and decreasing", field="resolutions")
    if "default_theme" in changes:
        key = changes.pop("default_theme")
        config.default_theme = Theme.objects.filter(key=key).first() if key else None
        if key and config.default_theme is None:
            raise BadInput(f"no theme {key!r}", field="default_theme")
    for name, value in changes.items():
        setattr(config, name, value)
    low = changes.get("min_zoom", config.min_zoom)
    if low > config.max_zoom or not (config.min_zoom <= config.zoom <= config.max_zoom):
        raise BadInput("zoom must lie within min_zoom..max_zoom", field="zoom")
    config.save()
    return config


def _check_numbers(values, count: int, field: str) -> None:
    if (
        not isinstance(values, list)
        or len(values) != count
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        )
    ):
        raise BadInput(f"{field} must be {count} number(s)", field=field)


# --- themes ---------------------------------------------------------------------------------


def base_theme() -> Theme:
    """Gives the `base` theme (the core reference layers), created on first use."""
    theme, created = Theme.objects.get_or_create(
        key=DEFAULT_THEME, defaults={"title": "基础底图", "description": "core reference layers"}
    )
    if created:
        layers = {layer.key: layer for layer in Layer.objects.filter(key__in=BASE_LAYERS)}
        for order, key in enumerate(BASE_LAYERS):
            if key in layers:
                ThemeLayer.objects.create(theme=theme, layer=layers[key], order=order)
    return theme


def describe_theme(theme: Theme, scope) -> dict:
    """Gives a theme with its layers (only those the caller may read) in order."""
    entries = theme.entries.select_related("layer").order_by("order")
    return {
        "key": theme.key,
        "title": theme.title,
        "description": theme.description,
        "layers": [
            {"key": e.layer.key, "title": e.layer.title, "order": e.order, "visible": e.visible}
            for e in entries
            if scope.can_read_layer(e.layer)
        ],
    }


def list_themes() -> list[Theme]:
    """Gives every theme (the base theme seeded on first use)."""
    base_theme()
    return list(Theme.objects.order_by("key"))


def get_theme(key: str) -> Theme:
    """Gives the theme `key` or `NotFound`."""
    if key == DEFAULT_THEME:
        return base_theme()
    theme = Theme.objects.filter(key=key).first()
    if theme is None:
        raise NotFound(f"no theme {key!r}")
    return theme


def _entries(layers) -> list[tuple[Layer, int, bool]]:
    if not isinstance(layers, list):
        raise BadInput("layers must be a list of {key, visible?}", field="layers")
    wanted = []
    for i, item in enumerate(layers):
        if isinstance(item, str):
            item = {"key": item}
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise BadInput("layers must be a list of {key, visible?}", field="layers")
        visible = item.get("visible", True)
        if not isinstance(visible, bool):
            raise BadInput("visible must be true or false", field="layers")
        order = item.get("order", i)
        if (
            not isinstance(order, int)
            or isinstance(order, bool)
            or not INT32[0] <= order <= INT32[1]
        ):
            raise BadInput(f"order must be an integer within {INT32[0]}..{INT32[1]}", "layers")
        wanted.append((item["key"], order, visible))
    found = {layer.key: layer for layer in Layer.objects.filter(key__in=[w[0] for w in wanted])}
    missing = [w[0] for w in wanted if w[0] not in found]
    if missing:
        raise Conflict(f"no layer {', '.join(missing)}", field="layers")
    if len(found) != len(wanted):
        raise BadInput("a layer appears twice in the theme", field="layers")
    return [(found[key], order, visible) for key, order, visible in wanted]


@transaction.atomic
def save_theme(data: dict, theme: Theme | None = None) -> Theme:
    """Gives a created (theme None) or edited theme; `layers` replaces the ordered list."""
    unknown = sorted(set(data) - {"key", "title", "description", "layers"})
    if unknown:
        raise BadInput(f"cannot set {', '.join(unknown)}", field=unknown[0])
    for name in ("key", "title", "description"):
        if name in data and not isinstance(data[name], str):
            raise BadInput(f"{name} must be a string", field=name)
    if theme is None:
        key = str(data.get("key", ""))
        if len(key) > THEME_KEY_MAX or not THEME_KEY_RE.fullmatch(key):
            raise BadInput("key must be a slug of at most 63 characters", field="key")
        if Theme.objects.filter(key=key).exists():
            raise Conflict(f"theme {key!r} exists", field="key")
        if not str(data.get("title", "")).strip():
            raise BadInput("title is required", field="title")
        theme = Theme(key=key)
    elif "key" in data and data["key"] != theme.key:
        raise BadInput("a theme's key cannot change", field="key")
    entries = _entries(data["layers"]) if "layers" in data else None
    if "title" in data:
        if not str(data["title"]).strip():
            raise BadInput("title must not be empty", field="title")
        theme.title = str(data["title"])[:128]
    if "description" in data:
        theme.description = str(data["description"])
    theme.save()
    if entries is not None:
        theme.entries.all().delete()
        ThemeLayer.objects.bulk_create(
            ThemeLayer(theme=theme, layer=layer, order=order, visible=visible)
            for layer, order, visible in entries
        )
    return theme


def delete_theme(theme: Theme) -> None:
    """Deletes a theme (its layers stay)."""
    theme.delete()
