"""MapLibre styles (地图样式) v8 for themes, in a dark and a light variant.

Vector layers share one composite source (`/tiles/a,b,c/{z}/{x}/{y}.mvt`: one request per tile
for the whole base map); each raster layer has its own source. Style layers are typed by the
registry's geometry type: fill + outline for polygons, line for lines, circle for points, and
for point layers clusters (sized by `point_count`) below the cluster zoom plus a hexagon-bin
heat layer (hidden until switched on).

Labels (标注) are symbol layers over glyphs we serve ourselves (`glyphs` →
`/fonts/{fontstack}/{range}.pbf`, made from the local CJK font by tiles/glyphs.py; no CDN):
road names along their lines from `ROAD_LABEL_MINZOOM`, and area names of districts, streets
and communities in their `AREA_LABELS` zooms at one label point per area (the `{key}_labels`
tile layer), each with a halo. A label layer carries its layer's `citygrid:layer`, so the
layer list switches it with its layer. The map page draws CJK ideographs with the browser's
font (`localIdeographFontFamily`); Latin letters and digits come from the PBFs.
"""

from __future__ import annotations

from spatial.models import Layer, Theme
from tiles.tilejson import OSM_ATTRIBUTION, uses_osm_data

VARIANTS = ("dark", "light")
ALL_LAYERS = "all"  # the style of every readable layer, whatever the themes hold
SOURCE = "citygrid"

BACKGROUND = {"light": "#f2efe9", "dark": "#0b1622"}
# Colours by purpose or key; anything else takes the next palette colour.
COLOURS = {
    "light": {
        "districts": "#6a3d9a",
        "streets": "#1f78b4",
        "communities": "#33a02c",
        "unit_grids": "#b2a58a",
        "responsibility_grids": "#ff7f00",
        "timing_zones": "#e31a1c",
        "controlled_areas": "#d62728",
        "roads": "#7f7f7f",
        "components": "#e6550d",
    },
    "dark": {
        "districts": "#cab2d6",
        "streets": "#a6cee3",
        "communities": "#b2df8a",
        "unit_grids": "#4d6a8a",
        "responsibility_grids": "#fdbf6f",
        "timing_zones": "#fb9a99",
        "controlled_areas": "#ff6b6b",
        "roads": "#d9d9d9",
        "components": "#ffb000",
    },
}
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
LINE_WIDTH = {"districts": 2.5, "streets": 1.8, "communities": 1.2, "roads": 1.6}
# Nested areas under each other add up their fills: the big ones are washed lightly, so the
# base stays calm and labels stand out.
FILL_OPACITY = {
    "districts": 0.03,
    "streets": 0.03,
    "communities": 0.04,
    "unit_grids": 0.06,
    "responsibility_grids": 0.04,
    "timing_zones": 0.04,
}

# Labels: the font the styles name (served by tiles/glyphs.py; else the first font served),
# the name field, area labels by layer key: (from zoom, up to zoom, text size), road names
# from this zoom, and the text colour and halo per variant.
LABEL_FONT = "WenQuanYi Micro Hei Regular"
LABEL_FIELD = "name"
AREA_LABELS = {"districts": (10, 14, 16), "streets": (12, 16, 14), "communities": (14, 18, 12)}
ROAD_LABEL_MINZOOM = 13
LABEL_TEXT = {"light": "#3c3c3c", "dark": "#e6e6e6"}
LABEL_HALO = {"light": "#ffffff", "dark": "#0b1622"}


def theme_layers(theme_key: str, scope) -> tuple[str, list[tuple[Layer, bool]]]:
    """Gives the theme's title and its (layer, visible) entries the caller may read.

    `base` without a Theme row, and `all` (the GIS admin's preview: whatever themes hold) without
    one, are every readable layer of the registry, all visible.
    """
    from core.errors import NotFound

    theme = Theme.objects.filter(key=theme_key).first()
    if theme is not None:
        entries = theme.entries.select_related("layer").order_by("order")
        pairs = [(e.layer, e.visible) for e in entries]
        title = theme.title
    elif theme_key in ("base", ALL_LAYERS):
        pairs = [(layer, True) for layer in Layer.objects.select_related("tiling")]
        title = "基础底图"
    else:
        raise NotFound(f"no such theme: {theme_key}", field="theme")
    return title, [(layer, vis) for layer, vis in pairs if scope.can_read_layer(layer)]


def _colour(layer: Layer, variant: str, index: int) -> str:
    custom = layer.style.get(f"color_{variant}") or layer.style.get("color")
    return custom or COLOURS[variant].get(layer.key) or PALETTE[index % len(PALETTE)]


def _paint_colour(layer: Layer, colour: str) -> str | list:
    """Gives the layer's colour, or a `match` on `style.by_field` giving each category's
    colour (other values: the layer's colour)."""
    field, categories = layer.style.get("by_field"), layer.style.get("categories") or []
    if not field or not categories:
        return colour
    pairs = [item for c in categories for item in (str(c["value"]), c["color"])]
    return ["match", ["to-string", ["get", field]], *pairs, colour]


def _width(layer: Layer, default: float) -> float:
    return float(layer.style.get("width", default))


def _opacity(layer: Layer, default: float) -> float:
    return float(layer.style.get("opacity", default))


def _geometry_kind(layer: Layer) -> str:
    tiling = getattr(layer, "tiling", None)
    gtype = (layer.geometry_type or "").lower()
    if (tiling is not None and tiling.points) or "point" in gtype:
        return "point"
    if "line" in gtype:
        return "line"
    return "polygon"


def _vector_style_layers(layer: Layer, visible: bool, colour: str, variant: str) -> list[dict]:
    common = {
        "source": SOURCE,
        "source-layer": layer.key,
        "minzoom": layer.min_zoom,
        "maxzoom": min(layer.max_zoom + 1, 24),
        "layout": {"visibility": "visible" if visible else "none"},
        "metadata": {"citygrid:layer": layer.key, "citygrid:title": layer.title},
    }
    kind = _geometry_kind(layer)
    halo = "#ffffff" if variant == "light" else "#0b1622"
    paint_colour = _paint_colour(layer, colour)
    if kind == "polygon":
        return [
            {
                **common,
                "id": f"{layer.key}-fill",
                "type": "fill",
                "paint": {
                    "fill-color": paint_colour,
                    "fill-opacity": _opacity(layer, FILL_OPACITY.get(layer.key, 0.12)),
                },
            },
            {
                **common,
                "id": f"{layer.key}-line",
                "type": "line",
                "paint": {
                    "line-color": paint_colour,
                    "line-width": _width(layer, LINE_WIDTH.get(layer.key, 1.0)),
                },
            },
        ]
    if kind == "line":
        return [
            {
                **common,
                "id": f"{layer.key}-line",
                "type": "line",
                "layout": {**common["layout"], "line-cap": "round", "line-join": "round"},
                "paint": {
                    "line-color": paint_colour,
                    "line-width": _line_width(layer),
                },
            },
        ]
    out = [
        # Point layers may hold a few lines or areas (a component can be a kerb or a pit).
        {
            **common,
            "id": f"{layer.key}-shape",
            "type": "line",
            "filter": ["!=", ["geometry-type"], "Point"],
            "paint": {"line-color": colour, "line-width": 2},
        },
        {
            **common,
            "id": f"{layer.key}-point",
            "type": "circle",
            "filter": ["all", ["!", ["has", "point_count"]], ["==", ["geometry-type"], "Point"]],
            "paint": {
                "circle-color": paint_colour,
                "circle-radius": _width(layer, 4),
                "circle-opacity": _opacity(layer, 1.0),
                "circle-stroke-width": 1,
                "circle-stroke-color": halo,
            },
        },
    ]
    tiling = getattr(layer, "tiling", None)
    if tiling is not None and tiling.points:
        out.append(
            {
                **common,
                "id": f"{layer.key}-cluster",
                "type": "circle",
                "filter": ["has", "point_count"],
                "paint": {
                    "circle-color": colour,
                    "circle-opacity": 0.75,
                    "circle-stroke-width": 1,
                    "circle-stroke-color": halo,
                    "circle-radius": [
                        "interpolate",
                        ["linear"],
                        ["sqrt", ["get", "point_count"]],
                        1,
                        4,
                        10,
                        12,
                        100,
                        40,
                    ],
                },
            }
        )
    return out


def _line_width(layer: Layer) -> float | list:
    """Gives a line layer's width: the style's, else growing with the zoom."""
    if "width" in layer.style:
        return _width(layer, 1.0)
    return ["interpolate", ["linear"], ["zoom"], 10, 0.8, 18, LINE_WIDTH.get(layer.key, 1.0) * 4]


def _label_field(layer: Layer) -> str | None:
    """Gives the field a layer's labels show (`style.label_field`, else `name`), if visible."""
    wanted = layer.style.get("label_field") or LABEL_FIELD
    for field in layer.fields or []:
        if isinstance(field, dict) and field.get("name") == wanted:
            return wanted if field.get("visible", True) else None
    return None


def label_font() -> str | None:
    """Gives the font the labels use, or None when no font is served (no labels then)."""
    from tiles import glyphs

    names = glyphs.font_names()
    if LABEL_FONT in names:
        return LABEL_FONT
    return names[0] if names else None


def area_label_layer(layer: Layer) -> str | None:
    """Gives the tile layer of a layer's area-name label points, if its names are labelled."""
    named = layer.key in AREA_LABELS or layer.style.get("label_field")
    if named and _geometry_kind(layer) == "polygon" and _label_field(layer):
        return f"{layer.key}_labels"
    return None


def _label_layers(layer: Layer, visible: bool, colour: str, variant: str, font: str) -> list:
    """Gives the symbol layers of a layer's names: along roads, or at areas' label points."""
    field = _label_field(layer)
    kind = _geometry_kind(layer)
    common = {
        "type": "symbol",
        "source": SOURCE,
        "metadata": {"citygrid:layer": layer.key, "citygrid:title": layer.title},
    }
    halo = {"text-halo-color": LABEL_HALO[variant], "text-halo-blur": 0.5}
    if field and kind == "line":
        return [
            {
                **common,
                "id": f"{layer.key}-label",
                "source-layer": layer.key,
                "minzoom": max(ROAD_LABEL_MINZOOM, layer.min_zoom),
                "maxzoom": min(layer.max_zoom + 1, 24),
                "layout": {
                    "visibility": "visible" if visible else "none",
                    "symbol-placement": "line",
                    "symbol-spacing": 320,
                    "text-field": ["get", field],
                    "text-font": [font],
                    "text-size": ["interpolate", ["linear"], ["zoom"], 13, 11, 18, 15],
                    "text-max-angle": 30,
                    "text-padding": 4,
                    "text-rotation-alignment": "map",
                    "text-pitch-alignment": "viewport",
                },
                "paint": {"text-color": LABEL_TEXT[variant], "text-halo-width": 1.6, **halo},
            }
        ]
    source_layer = area_label_layer(layer)
    if layer.key not in AREA_LABELS:
        return _chosen_label_layers(layer, visible, colour, variant, font) if field else []
    low, high, size = AREA_LABELS[layer.key]
    return [
        {
            **common,
            "id": f"{layer.key}-label",
            "source-layer": source_layer,
            "minzoom": max(low, layer.min_zoom),
            "maxzoom": min(high, layer.max_zoom + 1, 24),
            "layout": {
                "visibility": "visible" if visible else "none",
                "text-field": ["get", field],
                "text-font": [font],
                "text-size": size,
                "text-letter-spacing": 0.1,
                "text-max-width": 8,
                "text-padding": 6,
            },
            "paint": {"text-color": colour, "text-halo-width": 2, **halo},
        }
    ]


def _chosen_label_layers(layer: Layer, visible: bool, colour: str, variant: str, font: str):
    """Gives the labels of a point or area layer whose style names a `label_field`: under each
    point, or at each area's one label point (the `{key}_labels` tile layer)."""
    if not layer.style.get("label_field"):
        return []
    kind = _geometry_kind(layer)
    source_layer = area_label_layer(layer) if kind == "polygon" else layer.key
    halo = {"text-halo-color": LABEL_HALO[variant], "text-halo-blur": 0.5}
    layout = {
        "visibility": "visible" if visible else "none",
        "text-field": ["to-string", ["get", layer.style["label_field"]]],
        "text-font": [font],
        "text-size": 12,
        "text-max-width": 8,
        "text-padding": 4,
    }
    if kind == "point":
        layout |= {"text-anchor": "top", "text-offset": [0, 0.6], "text-optional": True}
    return [
        {
            "type": "symbol",
            "source": SOURCE,
            "source-layer": source_layer,
            "id": f"{layer.key}-label",
            "minzoom": layer.min_zoom,
            "maxzoom": min(layer.max_zoom + 1, 24),
            "metadata": {"citygrid:layer": layer.key, "citygrid:title": layer.title},
            "layout": layout,
            "paint": {"text-color": colour, "text-halo-width": 1.6, **halo},
        }
    ]


def _heat_layers(layer: Layer, colour: str) -> tuple[dict, list[dict]]:
    tiling = layer.tiling
    name = f"{layer.key}_hex"
    source = {
        "type": "vector",
        "tiles": [],
        "minzoom": layer.min_zoom,
        "maxzoom": max(layer.min_zoom, tiling.cluster_below_zoom - 1),
    }
    style_layer = {
        "id": f"{name}-fill",
        "type": "fill",
        "source": name,
        "source-layer": name,
        "layout": {"visibility": "none"},
        "metadata": {
            "citygrid:layer": name,
            "citygrid:title": f"{layer.title}热力",
            "citygrid:identify": False,
        },
        "paint": {
            "fill-opacity": 0.55,
            "fill-color": [
                "interpolate",
                ["linear"],
                ["get", "count"],
                1,
                "#ffffb2",
                10,
                "#fd8d3c",
                100,
                "#bd0026",
            ],
        },
    }
    return source, [style_layer]


def style(theme_key: str, variant: str, scope, base_url: str) -> dict:
    """Gives the MapLibre style v8 of a theme for the caller's readable layers."""
    title, entries = theme_layers(theme_key, scope)
    sources: dict[str, dict] = {}
    layers: list[dict] = [
        {
            "id": "background",
            "type": "background",
            "paint": {"background-color": BACKGROUND[variant]},
        }
    ]
    vector = [(layer, vis) for layer, vis in entries if layer.kind != Layer.Kind.RASTER]
    for layer, vis in entries:
        if layer.kind == Layer.Kind.RASTER:
            sources[layer.key] = {
                "type": "raster",
                "tileSize": 256,
                "minzoom": layer.min_zoom,
                "maxzoom": min(layer.max_zoom, 22),
                "tiles": [f"{base_url}/tiles/{layer.key}/{{z}}/{{x}}/{{y}}.png"],
            }
            layers.append(
                {
                    "id": f"{layer.key}-raster",
                    "type": "raster",
                    "source": layer.key,
                    "layout": {"visibility": "visible" if vis else "none"},
                    "metadata": {"citygrid:layer": layer.key, "citygrid:title": layer.title},
                }
            )
    if vector:
        names = [layer.key for layer, _ in vector]
        names += [n for n in (area_label_layer(layer) for layer, _ in vector) if n]
        keys = ",".join(names)
        sources[SOURCE] = {
            "type": "vector",
            "tiles": [f"{base_url}/tiles/{keys}/{{z}}/{{x}}/{{y}}.mvt"],
            "minzoom": min(layer.min_zoom for layer, _ in vector),
            "maxzoom": min(max(layer.max_zoom for layer, _ in vector), 22),
        }
        if any(uses_osm_data(layer) for layer, _ in vector):
            sources[SOURCE]["attribution"] = OSM_ATTRIBUTION
    order = {"polygon": 0, "line": 1, "point": 2}
    heat: list[dict] = []
    labels: list[dict] = []
    font = label_font()
    insert_at = len(layers)
    for index, (layer, vis) in enumerate(sorted(vector, key=lambda e: order[_geometry_kind(e[0])])):
        colour = _colour(layer, variant, index)
        layers += _vector_style_layers(layer, vis, colour, variant)
        if font:
            labels += _label_layers(layer, vis, colour, variant, font)
        tiling = getattr(layer, "tiling", None)
        if tiling is not None and tiling.points:
            source, style_layers = _heat_layers(layer, colour)
            source["tiles"] = [f"{base_url}/tiles/{layer.key}_hex/{{z}}/{{x}}/{{y}}.mvt"]
            sources[f"{layer.key}_hex"] = source
            heat += style_layers
    layers[insert_at:insert_at] = heat
    # Names above everything; MapLibre places the upper layers' labels first, so a district's
    # name wins over a street's, a community's and a road's where they would collide.
    rank = {key: -i for i, key in enumerate(AREA_LABELS)}
    layers += sorted(labels, key=lambda lyr: rank.get(lyr["metadata"]["citygrid:layer"], -99))
    out = {
        "version": 8,
        "name": f"{title} ({'深色' if variant == 'dark' else '浅色'})",
        "metadata": {"citygrid:theme": theme_key, "citygrid:variant": variant},
        "sources": sources,
        "layers": layers,
    }
    if font:
        out["glyphs"] = f"{base_url}/fonts/{{fontstack}}/{{range}}.pbf"
    return out
