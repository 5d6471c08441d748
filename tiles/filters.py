"""Tile query filters (图层过滤): parameters a layer declares as data, parsed and bound safely.

A layer's `LayerTiling.filters` lists the names a request may use; anything else is refused
with 400. Values are bound as parameters and columns quoted as identifiers, so a value that
looks like SQL is just a value that matches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from psycopg2 import sql

from core import params
from core.errors import BadInput
from core.sqlparts import Part, bind

TYPES = ("string", "integer", "datetime")
OPS = {"in": None, ">=": ">=", "<=": "<="}
MAX_VALUES = 100
MAX_VALUE_LENGTH = 64


def _parse_value(spec: dict, raw: str) -> object:
    kind = spec.get("type", "string")
    name = spec["name"]
    if len(raw) > MAX_VALUE_LENGTH:
        raise BadInput(f"filter {name}: a value is longer than {MAX_VALUE_LENGTH}", field=name)
    # One value of a comma list, read as the one query parser reads a parameter.
    if kind == "integer":
        return params.integer({name: raw}, name)
    if kind == "datetime":
        return params.instant({name: raw}, name)
    return raw


def _condition(spec: dict, values: list) -> Part:
    column: sql.Composable = sql.Identifier(spec["column"])
    if spec.get("substr"):
        start, length = (int(v) for v in spec["substr"])
        column = sql.SQL("substr({}, {}, {})").format(
            column, sql.Literal(start), sql.Literal(length)
        )
    op = OPS[spec.get("op", "in")]
    if op is None:
        return bind("{c} = ANY({values})", c=column, values=values)
    return bind("{c} {op} {value}", c=column, op=sql.SQL(op), value=values[0])


def declared_names(specs: list[dict]) -> set[str]:
    """Gives the filter names a layer declares."""
    return {s["name"] for s in specs}


def parse_filters(
    specs: list[dict], query: Mapping[str, list[str]]
) -> tuple[list[Part], dict[str, list[str]]]:
    """Gives the SQL conditions (with their values) and the canonical values (for cache keys)
    of the filters in `query` ({name: [raw values]}) that `specs` declares; others are ignored
    here (the caller refuses names no layer declares)."""
    conditions: list[Part] = []
    canonical: dict[str, list[str]] = {}
    for spec in specs:
        raws = query.get(spec["name"])
        if not raws:
            continue
        parts = [p.strip() for raw in raws for p in raw.split(",") if p.strip()]
        if not parts:
            raise BadInput(f"filter {spec['name']}: no value given", field=spec["name"])
        if len(parts) > MAX_VALUES:
            raise BadInput(
                f"filter {spec['name']}: at most {MAX_VALUES} values", field=spec["name"]
            )
        values = [_parse_value(spec, p) for p in parts]
        op = spec.get("op", "in")
        if op != "in" and len(values) != 1:
            raise BadInput(f"filter {spec['name']}: takes one value", field=spec["name"])
        conditions.append(_condition(spec, values))
        canonical[spec["name"]] = sorted(str(v) for v in values)
    return conditions, canonical
