"""Gives the layer registry as callers see it (图层管理): scoped lists, one layer's description,
edits of its presentation, deletion of managed layers, and up-to-date extent and count."""

from __future__ import annotations

from django.db import connection, transaction

from core.errors import BadInput, Conflict, NotFound
from core.sqlparts import bind
from accounts import permissions as perms
from spatial.models import Layer

from . import writer


def refresh_stats(layer: Layer) -> Layer:
    """Gives the layer with extent and feature_count recomputed from its table."""
    if layer.kind == Layer.Kind.RASTER or not layer.table_name:
        return layer
    from accounts.scoping import system_scope

    from .source import LayerSource

    source = LayerSource(layer, system_scope("layers.refresh_stats"))
    # One sequential aggregate over the layer's rows (filter_sql applied).
    query = bind(
        "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT count(*), ST_Extent({geom}) FROM {table} WHERE {where}) s(n, e)",
        geom=source.geometry(),
        table=source.table,
        where=source.where(),
    )
    with connection.cursor() as cur:
        cur.execute(*query)
        count, *bounds = cur.fetchone()
    layer.feature_count = count
    layer.extent = [round(v, 7) for v in bounds] if bounds[0] is not None else None
    Layer.objects.filter(pk=layer.pk).update(feature_count=count, extent=layer.extent)
    return layer


def get_layer(key: str, scope) -> Layer:
    """Gives the layer `key` if the caller may read it; `NotFound` otherwise (no existence
    leak)."""
    layer = Layer.objects.filter(key=key).first()
    if layer is None or not scope.can_read_layer(layer):
        raise NotFound(f"no layer {key!r}")
    return layer


def list_layers(scope, kind: str | None = None, group: str | None = None) -> list[Layer]:
    """Gives the layers the caller may read, in display order."""
    layers = Layer.objects.all()
    if kind:
        layers = layers.filter(kind=kind)
    if group:
        layers = layers.filter(group=group)
    return [layer for layer in layers if scope.can_read_layer(layer)]


def sees_whole_layer(layer: Layer, scope) -> bool:
    """Whether the caller reads every row of the layer (public layers, system admins): only
    then are its city-wide count and extent theirs to see."""
    return layer.public or scope.sees_everything


def describe(layer: Layer, scope) -> dict:
    """Gives the JSON description of a layer as the caller may see it: hidden fields only for
    those who edit layers, count and extent only for those who read every row."""
    whole = sees_whole_layer(layer, scope)
    editor = scope.has_perm(perms.LAYERS_EDIT)
    fields = [f for f in layer.fields or [] if editor or f.get("visible", True)]
    return {
        "key": layer.key,
        "title": layer.title,
        "description": layer.description,
        "kind": layer.kind,
        "geometry_type": layer.geometry_type,
        "fields": fields,
        "purpose": layer.purpose,
        "purpose_label": layer.get_purpose_display() if layer.purpose else "",
        "group": layer.group,
        "min_zoom": layer.min_zoom,
        "max_zoom": layer.max_zoom,
        "public": layer.public,
        "style": layer.style,
        "extent": layer.extent if whole else None,
        "feature_count": layer.feature_count if whole else None,
        "datetime_column": layer.datetime_column,
        "version": layer.version,
        "sort_order": layer.sort_order,
        "updated_at": layer.updated_at.isoformat() if layer.updated_at else None,
    }


def edit_layer(layer: Layer, changes: dict) -> Layer:
    """Gives the layer after applying presentation edits (title, field aliases/visibility,
    group, zoom range, public, style, purpose), validated by `LayerPatchSerializer`."""
    from .serializers import LayerPatchSerializer

    form = LayerPatchSerializer(data=changes)
    if not form.is_valid():
        raise BadInput.from_serializer_errors(form.errors)
    changes = dict(form.validated_data)
    if "fields" in changes:
        changes["fields"] = _merge_fields(layer.fields, [dict(e) for e in changes["fields"]])
    low = changes.get("min_zoom", layer.min_zoom)
    high = changes.get("max_zoom", layer.max_zoom)
    if low > high:
        raise BadInput("min_zoom must not exceed max_zoom", field="min_zoom")
    if "style" in changes:
        changes["style"] = _checked_style(layer, changes["style"])
    if changes.get("datetime_column"):
        column = changes["datetime_column"]
        types = column_types(layer)
        if not str(types.get(column, "")).startswith("timestamp") and types.get(column) != "date":
            raise BadInput(f"{column!r} is not a date/time column of the layer", "datetime_column")
    for name, value in changes.items():
        setattr(layer, name, value)
    layer.save(update_fields=[*changes, "updated_at"])
    return layer


def _checked_style(layer: Layer, style: dict) -> dict:
    """Gives the validated style as plain JSON; the fields it labels or colours by must be
    fields of the layer (`BadInput`, field `style`)."""
    style = {k: v for k, v in style.items() if v not in ("", None)}
    if "categories" in style:
        style["categories"] = [dict(c) for c in style["categories"]]
    names = {f.get("name") for f in layer.fields or [] if isinstance(f, dict)}
    for setting in ("label_field", "by_field"):
        if setting in style and style[setting] not in names:
            raise BadInput(f"{setting}: the layer has no field {style[setting]!r}", field="style")
    return style


def _merge_fields(current: list[dict], edits: list[dict]) -> list[dict]:
    """Gives the layer's fields with validated edits ({name, alias?, visible?}) applied."""
    by_name = {f["name"]: dict(f) for f in current}
    for edit in edits:
        field = by_name.get(edit["name"])
        if field is None:
            # Well-formed, naming nothing stored: a conflict, as for any missing reference.
            raise Conflict(f"the layer has no field {edit['name']!r}", field="fields")
        if "alias" in edit:
            field["alias"] = edit["alias"]
        if "visible" in edit:
            field["visible"] = edit["visible"]
    return [by_name[f["name"]] for f in current]


def delete_layer(layer: Layer) -> None:
    """Deletes a managed layer: its registry entry and its table, in one transaction."""
    if layer.kind != Layer.Kind.MANAGED:
        raise Conflict(f"{layer.key!r} is a {layer.kind} layer; only managed layers are deleted")
    with transaction.atomic():
        table = layer.table_name
        layer.delete()
        writer.drop_table(table)


def column_types(layer: Layer) -> dict[str, str]:
    """Gives {column: SQL data type} of the layer's table."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            [layer.schema_name or "public", layer.table_name],
        )
        return dict(cur.fetchall())
