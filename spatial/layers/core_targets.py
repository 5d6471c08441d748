"""Gives core geography rows from an imported file: unit grids (单元网格), responsibility grids
(责任网格), admin areas (行政区划), road segments and components (部件), with a field mapping
(`code=BGID,name=MC`) and code validation. All or nothing: one transaction, and any invalid
code refuses the whole file with the rows named. A grid set with its own codes, areas in
several rows or no parents is shaped by `grid_sets`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import io
import re
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection
from psycopg2 import sql

from core.errors import BadInput

from .. import routing
from . import grid_sets

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import pandas as pd

MAX_LISTED = 20


@dataclass(frozen=True)
class Target:
    """One core table an import can write: its fields (required first) and geometry family."""

    key: str
    layer_keys: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    family: str  # "Polygon", "LineString" or "" for any


TARGETS = {
    "unit_grids": Target("unit_grids", ("unit_grids",), ("code",), ("community",), "Polygon"),
    "responsibility_grids": Target(
        "responsibility_grids", ("responsibility_grids",), ("code", "name"), ("street",), "Polygon"
    ),
    "admin_areas": Target(
        "admin_areas",
        ("districts", "streets", "communities"),
        ("code", "name"),
        ("level", "parent"),
        "Polygon",
    ),
    "roads": Target("roads", ("roads",), ("name",), ("road_class", "source_id"), "LineString"),
    "components": Target(
        "components",
        ("components",),
        ("code",),
        ("name", "status", "owner_department", "maintenance_unit"),
        "",
    ),
}
ROAD_CLASSES = {
    "main": "main",
    "motorway": "main",
    "trunk": "main",
    "primary": "main",
    "主干道": "main",
    "secondary": "secondary",
    "tertiary": "secondary",
    "次干道": "secondary",
    "branch": "branch",
    "residential": "branch",
    "unclassified": "branch",
    "living_street": "branch",
    "支路": "branch",
    "alley": "alley",
    "service": "alley",
    "footway": "alley",
    "path": "alley",
    "pedestrian": "alley",
    "track": "alley",
    "背街小巷": "alley",
}
COMPONENT_STATUS = ("normal", "damaged", "missing", "removed")


def parse_mapping(text: str | dict | None) -> dict[str, str]:
    """Gives {target field: file column} from `code=BGID,name=MC` (or a dict)."""
    if not text:
        return {}
    if isinstance(text, dict):
        return {str(k).strip(): str(v).strip() for k, v in text.items()}
    mapping = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise BadInput(f"mapping entry {part!r} is not target=column", field="map")
        target, column = (s.strip() for s in part.split("=", 1))
        mapping[target] = column
    return mapping


def mapped_columns(target: Target, mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """Gives {target field: file column}, defaulting to same-named columns; `BadInput` for
    unknown targets, missing columns or missing required fields."""
    allowed = target.required + target.optional
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise BadInput(
            f"--as {target.key} has no field {', '.join(unknown)}; fields: {', '.join(allowed)}",
            field="map",
        )
    lower = {c.lower(): c for c in columns}
    result = {}
    for name in allowed:
        wanted = mapping.get(name, name)
        column = lower.get(wanted.lower())
        if column is None and name in mapping:
            raise BadInput(
                f"the mapping names column {wanted!r} for {name}, but the file has only "
                f"{', '.join(columns) or '(no columns)'}",
                field="map",
            )
        if column is not None:
            result[name] = column
    missing = [n for n in target.required if n not in result]
    if missing:
        raise BadInput(
            f"--as {target.key} needs {', '.join(missing)}; map them with --map "
            f"{missing[0]}=COLUMN (the file has {', '.join(columns) or 'no columns'})",
            field="map",
        )
    return result


def _codes(frame: pd.DataFrame, column: str) -> pd.Series:
    import pandas as pd

    values = frame[column]
    if pd.api.types.is_float_dtype(values.dtype):
        values = values.astype("Int64")
    return values.astype("string").str.strip()


def _refuse(what: str, bad: np.ndarray, values: pd.Series) -> None:
    rows = np.flatnonzero(bad)
    if len(rows):
        shown = ", ".join(f"row {i + 1} ({values.iloc[i]!r})" for i in rows[:MAX_LISTED])
        raise BadInput(f"{len(rows)} rows have {what}: {shown}", field="map")


def _existing(table: str, codes: list[str], where: str = "", params: list | None = None) -> set:
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code FROM {} WHERE code = ANY(%s) " + where).format(
                sql.Identifier(table)
            ),
            [codes, *(params or [])],
        )
        return {r[0] for r in cur.fetchall()}


def validate(target: Target, data: pd.DataFrame) -> pd.DataFrame:
    """Gives the validated rows for `target` (code checks per CJ/T 213/214 and GB/T 2260)."""
    if "code" in data:
        code = data["code"]
        _refuse("no code", code.isna().to_numpy() | (code == "").fillna(True).to_numpy(), code)
        if target.family != "Polygon":
            _refuse_repeated(code)
    # Unit grid and admin area codes are checked by grid_sets once rows of one code are merged;
    # here only a file mixing standard codes with others (a typo rather than its own codes).
    if target.key == "unit_grids":
        standard = data["code"].str.fullmatch(r"\d{14}").fillna(False).to_numpy()
        if standard.any():
            _refuse(
                "a unit grid code that is not 14 digits (while the others are standard codes; "
                "a set with its own codes throughout has them kept as source_code)",
                ~standard,
                data["code"],
            )
    elif target.key == "admin_areas":
        _refuse("an empty name", data["name"].isna().to_numpy(), data["code"])
    elif target.key == "responsibility_grids":
        _refuse("an empty name", data["name"].isna().to_numpy(), data["code"])
        if "street" in data:
            street = data["street"] = _street_codes(data["street"])
            known = _existing(
                "spatial_adminarea", sorted(set(street.dropna())), "AND level = %s", ["street"]
            )
            _refuse(
                "a street code that is not an existing street",
                street.notna().to_numpy() & ~street.isin(known).to_numpy(),
                street,
            )
    elif target.key == "components":
        code = data["code"]
        _refuse(
            "a component code that is not 16 digits",
            ~code.str.fullmatch(r"\d{16}").fillna(False).to_numpy(),
            code,
        )
        minors = code.str[6:10]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT code FROM data_category WHERE kind = %s AND parent_id IS NOT NULL "
                "AND code = ANY(%s)",
                ["component", sorted(set(minors.dropna()))],
            )
            known = {r[0] for r in cur.fetchall()}
        _refuse(
            "a minor class (digits 7-10) that is not a component class",
            ~minors.isin(known).to_numpy(),
            code,
        )
        if "status" in data:
            status = data["status"].fillna("normal")
            _refuse(
                f"a status other than {', '.join(COMPONENT_STATUS)}",
                ~status.isin(COMPONENT_STATUS).to_numpy(),
                status,
            )
            data["status"] = status
    elif target.key == "roads":
        _refuse(
            "an empty name",
            data["name"].isna().to_numpy() | (data["name"] == "").fillna(True).to_numpy(),
            data["name"],
        )
        if "road_class" in data:
            mapped = data["road_class"].str.lower().map(ROAD_CLASSES).astype("string")
            data["road_class"] = mapped.fillna("branch")
    return data


def _street_codes(street: pd.Series) -> pd.Series:
    """Gives the street codes, a stored street's own code (source_code) replaced by its
    standard code, so a grid set's responsibility grids may name streets as the set does (a
    source code several streets share names none of them)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT source_code, min(code) FROM spatial_adminarea WHERE level = 'street' "
            "AND source_code = ANY(%s) GROUP BY source_code HAVING count(*) = 1",
            [sorted(set(street.dropna()))],
        )
        own = dict(cur.fetchall())
    return street.map(lambda s: own.get(s, s)).astype("string")


def _refuse_repeated(code: pd.Series) -> None:
    """`BadInput` naming each code given to several rows, with how many and which rows."""
    counts = code.value_counts(sort=False)
    repeated = counts[counts > 1]
    if len(repeated):
        shown = [
            f"code {c} appears {n} times (rows "
            f"{', '.join(str(i + 1) for i in np.flatnonzero((code == c).to_numpy())[:5])}"
            f"{', ...' if n > 5 else ''})"
            for c, n in repeated.items()
        ]
        raise BadInput(
            f"{len(repeated)} codes are given to more than one row: "
            f"{grid_sets.listed(shown)}; each feature needs its own code",
            field="map",
        )


def frame_for(target: Target, frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Gives the file's columns renamed to the target's fields, as trimmed text."""
    import pandas as pd

    data = pd.DataFrame(index=frame.index)
    for name in target.required + target.optional:
        column = columns.get(name)
        if column is None:
            data[name] = pd.Series(pd.NA, index=frame.index, dtype="string")
        elif name in ("code", "street", "parent", "community"):
            data[name] = _codes(frame, column)
        else:
            data[name] = frame[column].astype("string").str.strip()
    return data.reset_index(drop=True)


def write(
    target: Target, data: pd.DataFrame, geoms: np.ndarray, sets: grid_sets.SetOptions
) -> dict:
    """Writes validated rows into the core table (caller's transaction); gives counts and
    what was merged, assigned, created and warned about."""
    if target.key == "admin_areas":
        return write_admin_areas(grid_sets.plan_admin_areas(data, geoms, sets))
    if target.key == "unit_grids":
        return write_unit_grids(grid_sets.plan_unit_grids(data, geoms))
    report = {}
    if target.key == "responsibility_grids":
        data, geoms, report = grid_sets.merge_parts(data, geoms)
    if target.key == "roads":
        geoms, index = shapely.get_parts(geoms, return_index=True)
        data = data.iloc[index].reset_index(drop=True)
        written = _write_rows(data, geoms, _UPSERT[target.key], [])
        return {"rows_written": written, "road_graph_edges": routing.rebuild_graph()}
    return {"rows_written": _write_rows(data, geoms, _UPSERT[target.key], []), **report}


def write_unit_grids(planned: grid_sets.Planned) -> dict:
    """Writes unit grids under their communities; gives counts and area warnings."""
    data = planned.data[["code", "source_code", "parent"]]
    written = _write_rows(data, planned.geoms, _UNIT_GRID_SQL, [])
    warnings = grid_sets.unit_grid_area_warnings(list(data["code"]))
    return {"rows_written": written, **planned.report, **warnings}


_UNIT_GRID_SQL = """
    INSERT INTO spatial_unitgrid (code, source_code, community_id, area_m2, geom)
    SELECT t.code, t.source_code, c.id, ST_Area(ST_Multi(t.geom)::geography), ST_Multi(t.geom)
      FROM import_rows t JOIN spatial_adminarea c
        ON c.code = t.parent AND c.level = 'community'
    ON CONFLICT (code) DO UPDATE SET community_id = EXCLUDED.community_id,
        source_code = COALESCE(EXCLUDED.source_code, spatial_unitgrid.source_code),
        area_m2 = EXCLUDED.area_m2, geom = EXCLUDED.geom"""


_UPSERT = {
    "responsibility_grids": """
        INSERT INTO spatial_responsibilitygrid (code, name, street_id, geom)
        SELECT t.code, t.name, s.id, ST_Multi(t.geom)
          FROM import_rows t LEFT JOIN spatial_adminarea s
            ON s.code = t.street AND s.level = 'street'
        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, street_id = EXCLUDED.street_id,
            geom = EXCLUDED.geom""",
    "roads": """
        INSERT INTO spatial_roadsegment (name, road_class, geom, source_id)
        SELECT t.name, COALESCE(t.road_class, 'branch'), t.geom, COALESCE(t.source_id, '')
          FROM import_rows t""",
    "components": """
        INSERT INTO spatial_component (code, category_id, name, geom, owner_department,
            maintenance_unit, status, attributes, updated_at)
        SELECT t.code, c.id, COALESCE(t.name, ''), t.geom, COALESCE(t.owner_department, ''),
            COALESCE(t.maintenance_unit, ''), COALESCE(t.status, 'normal'), '{}'::jsonb, now()
          FROM import_rows t JOIN data_category c
            ON c.kind = 'component' AND c.code = substr(t.code, 7, 4) AND c.parent_id IS NOT NULL
        ON CONFLICT (code) DO UPDATE SET category_id = EXCLUDED.category_id,
            name = EXCLUDED.name, geom = EXCLUDED.geom, status = EXCLUDED.status,
            owner_department = EXCLUDED.owner_department,
            maintenance_unit = EXCLUDED.maintenance_unit, updated_at = now()""",
}


def write_admin_areas(planned: grid_sets.Planned) -> dict:
    """Writes admin areas level by level (districts, streets, communities), so each parent is
    stored before its children; gives counts."""
    total = 0
    data = planned.data[["code", "source_code", "name", "level", "parent"]]
    for level in grid_sets.ADMIN_LEVELS:
        mask = (data["level"] == level).fillna(False).to_numpy()
        if mask.any():
            rows = data[mask].reset_index(drop=True)
            total += _write_rows(rows, planned.geoms[mask], _ADMIN_LEVEL_SQL, [])
    return {"rows_written": total, **planned.report}


_ADMIN_LEVEL_SQL = """
    INSERT INTO spatial_adminarea (code, source_code, name, level, parent_id, geom)
    SELECT t.code, t.source_code, t.name, t.level, p.id, ST_Multi(t.geom)
      FROM import_rows t
      LEFT JOIN spatial_adminarea p ON p.code = t.parent
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id,
        source_code = COALESCE(EXCLUDED.source_code, spatial_adminarea.source_code),
        geom = EXCLUDED.geom"""


def _write_rows(data: pd.DataFrame, geoms: np.ndarray, statement: str, params: list) -> int:
    columns = list(data.columns)
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE import_rows ({}, geom geometry NOT NULL) ON COMMIT DROP"
            ).format(
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )
        buffer = io.StringIO()
        for values, geom in zip(
            _text_rows(data), shapely.to_wkb(geoms, hex=True, include_srid=True)
        ):
            buffer.write("\t".join([*values, geom]) + "\n")
        buffer.seek(0)
        cur.cursor.copy_expert(
            sql.SQL("COPY import_rows ({}, geom) FROM STDIN")
            .format(sql.SQL(", ").join(map(sql.Identifier, columns)))
            .as_string(cur.cursor.connection),
            buffer,
        )
        cur.execute(statement, params)
        written = cur.rowcount
        cur.execute("DROP TABLE import_rows")
    return written


_ESCAPE = re.compile(r"[\\\t\n\r]")


def _text_rows(data: pd.DataFrame):
    import pandas as pd

    escape = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
    for row in data.itertuples(index=False):
        yield [
            "\\N"
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
            else _ESCAPE.sub(lambda m: escape[m.group()], str(v))
            for v in row
        ]
