"""Gives the rows of a city's own grid-management set (网格化管理数据) ready to write as core
geography: the rows of one code dissolved into one area, each row's level, its parent (by code
prefix, a parent column, or the largest overlap with the level above, in the database or the
same file), the set's own codes kept as `source_code` with standard codes assigned by the
CJ/T 213 rule, a missing district made on request, and unit grids of unusual size reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

import re
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection

from core.errors import BadInput

from .grid_codes import (
    CODE_LENGTH,
    MAX_LISTED,
    PARENT_LEVEL,
    PLURAL,
    refuse,
    assign_codes,
    is_standard,
    listed,
    natural,
    stored,
)

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import pandas as pd

LEVEL_WORDS = {
    "district": "district",
    "区": "district",
    "区县": "district",
    "县": "district",
    "street": "street",
    "街道": "street",
    "镇": "street",
    "乡": "street",
    "community": "community",
    "社区": "community",
    "村": "community",
}
ADMIN_LEVELS = ("district", "street", "community")
# A parent must hold at least this share of a child's area; below it the child has no parent.
PARENT_SHARE = 0.5
# A unit grid (万米单元网格) is about 10,000 m²; outside this range it is reported, not refused.
UNIT_GRID_AREA_M2 = (1_000.0, 50_000.0)


@dataclass(frozen=True)
class SetOptions:
    """The import options that shape a grid set: the file's level, and the district to create
    when streets lie in none."""

    level: str = ""
    create_parents: bool = False
    district_code: str = ""
    district_name: str = ""


@dataclass
class Planned:
    """Rows ready to write: code, name, level, parent (code), source_code; and what was done."""

    data: pd.DataFrame
    geoms: np.ndarray
    report: dict


def merge_parts(data: pd.DataFrame, geoms: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Gives one row per code: the geometries of the rows sharing a code (a multi-part area
    stored as separate polygons) dissolved into one; `BadInput` when such rows disagree on
    another field (then they are different areas given one code)."""
    import pandas as pd

    codes = data["code"]
    counts = codes.value_counts(sort=False)
    repeated = counts[counts > 1]
    if repeated.empty:
        return data, geoms, {}
    for column in data.columns.drop("code"):
        values = data.loc[codes.isin(repeated.index), ["code", column]].dropna()
        distinct = values.groupby("code")[column].unique()
        clash = distinct[distinct.map(len) > 1]
        if len(clash):
            shown = [
                f"code {c} appears {counts[c]} times with {column} {listed(sorted(v))}"
                for c, v in clash.items()
            ]
            raise BadInput(
                f"{len(clash)} codes are given to rows that differ in {column}: "
                f"{listed(shown)}; rows of one code are merged as parts of one area, so give "
                "each different area its own code",
                field="map",
            )
    group = pd.factorize(codes)[0]
    merged = data.groupby(group, sort=True).first().reset_index(drop=True)
    parts = np.empty(len(merged), dtype=object)
    for g, rows in pd.Series(np.arange(len(codes))).groupby(group):
        parts[g] = geoms[rows.iloc[0]] if len(rows) == 1 else shapely.union_all(geoms[rows])
    notes = [f"code {c} had {n} parts, merged" for c, n in repeated.items()]
    report = {
        "merged_codes": len(repeated),
        "merged_rows": int(repeated.sum()),
        "merged": notes[:MAX_LISTED],
    }
    return merged, parts, report


def levels_of(data: pd.DataFrame, level_option: str) -> pd.Series:
    """Gives each admin-area row's level: its level column, else `--level`, else the length of
    a standard code (6, 9 or 12 digits)."""
    import pandas as pd

    given = data["level"].str.lower().map(LEVEL_WORDS) if "level" in data else None
    if given is not None:
        unknown = data["level"].notna() & given.isna()
        refuse(
            "{n} rows have a level other than district/street/community (区/街道/社区): {items}",
            sorted(set(data.loc[unknown, "level"])),
        )
    level = given if given is not None else pd.Series(pd.NA, index=data.index, dtype="object")
    if level_option:
        level = level.fillna(level_option)
    by_length = data["code"].str.len().map({6: "district", 9: "street", 12: "community"})
    by_length = by_length.where(data["code"].str.fullmatch(r"\d+").fillna(False))
    level = level.fillna(by_length)
    refuse(
        "{n} rows have no level: their code is not a 6, 9 or 12-digit standard code ({items}); "
        "give the level with --level street|community (or a level column, --map level=COLUMN), "
        "and the codes are kept as source_code with standard codes assigned",
        data.loc[level.isna(), "code"],
    )
    return level.astype("string")


def _read_areas(level: str, box: tuple, codes: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Gives the database's areas of `level` that touch `box` or carry one of `codes`."""
    import pandas as pd

    # spatial_adminarea_geom gist (&&); the code and source_code btrees.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, source_code, ST_AsBinary(geom) FROM spatial_adminarea "
            "WHERE level = %(level)s AND (geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, "
            "%(y1)s, 4326) OR code = ANY(%(codes)s) OR source_code = ANY(%(codes)s)) "
            "ORDER BY code",
            {
                "level": level,
                "x0": box[0],
                "y0": box[1],
                "x1": box[2],
                "y1": box[3],
                "codes": codes,
            },
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(
        [(r[0], r[1]) for r in rows], columns=["code", "source_code"], dtype="string"
    )
    return frame, shapely.from_wkb([bytes(r[2]) for r in rows])


def _largest_overlap(children: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Gives, for each child, the index of the parent holding most of its area (the lower
    index on a tie), or -1 when none holds at least PARENT_SHARE of it."""
    best = np.full(len(children), -1)
    if not len(parents) or not len(children):
        return best
    child, parent = shapely.STRtree(parents).query(children, predicate="intersects")
    shared = shapely.area(shapely.intersection(children[child], parents[parent]))
    order = np.lexsort((parent, -shared, child))
    child, parent, shared = child[order], parent[order], shared[order]
    first = np.unique(child, return_index=True)[1]
    enough = shared[first] >= PARENT_SHARE * shapely.area(children[child[first]])
    best[child[first][enough]] = parent[first][enough]
    return best


class _Candidates:
    """The areas of one level a child may belong to: this file's, then the database's."""

    def __init__(self, level: str, file_rows: pd.DataFrame, file_geoms: np.ndarray, box, wanted):
        import pandas as pd

        db, db_geoms = _read_areas(level, box, wanted)
        fresh = ~db["code"].isin(file_rows["code"]).to_numpy()
        self.rows = pd.concat(
            [file_rows[["code", "source_code"]], db[fresh]], ignore_index=True
        ).astype("string")
        self.geoms = np.concatenate([file_geoms, db_geoms[fresh]])

    def by_reference(self, values: pd.Series) -> pd.Series:
        """Gives the code of the area each value names (by standard or source code)."""
        lookup = dict(zip(self.rows["source_code"].dropna(), self.rows["code"]))
        lookup.update(dict(zip(self.rows["code"], self.rows["code"])))
        return values.map(lookup)

    def by_overlap(self, geoms: np.ndarray) -> pd.Series:
        import pandas as pd

        best = _largest_overlap(geoms, self.geoms)
        codes = pd.Series(pd.NA, index=range(len(geoms)), dtype="string")
        codes[best >= 0] = self.rows["code"].to_numpy()[best[best >= 0]]
        return codes


def _bounds(geoms: np.ndarray) -> tuple:
    return tuple(map(float, shapely.total_bounds(geoms))) if len(geoms) else (0.0,) * 4


def plan_admin_areas(data: pd.DataFrame, geoms: np.ndarray, options: SetOptions) -> Planned:
    """Gives districts, streets and communities ready to write, top level first."""
    import pandas as pd

    data = data.assign(level=levels_of(data, options.level))
    data, geoms, report = merge_parts(data, geoms)
    data["source_code"] = pd.Series(pd.NA, index=data.index, dtype="string")
    done: list[tuple[pd.DataFrame, np.ndarray]] = []
    above = (data.iloc[:0], geoms[:0])
    for level in ADMIN_LEVELS:
        mask = (data["level"] == level).to_numpy()
        rows, level_geoms = data[mask].reset_index(drop=True), geoms[mask]
        if level == "district":
            rows = _district_codes(rows, options, report)
        elif len(rows):
            rows, created = _place(level, rows, level_geoms, above, options, report)
            if created is not None:
                done[0] = (
                    pd.concat([done[0][0], created[0]], ignore_index=True),
                    np.concatenate([done[0][1], created[1]]),
                )
        done.append((rows, level_geoms))
        above = (rows, level_geoms)
    planned = pd.concat([d for d, _ in done], ignore_index=True)
    return Planned(planned, np.concatenate([g for _, g in done]), report)


def _district_codes(rows: pd.DataFrame, options: SetOptions, report: dict) -> pd.DataFrame:
    import pandas as pd

    if not len(rows) or is_standard(rows["code"], "district"):
        return rows.assign(parent=pd.NA)
    if len(rows) == 1 and options.district_code:
        report["source_codes_kept"] = {"district": 1}
        return rows.assign(source_code=rows["code"], code=options.district_code, parent=pd.NA)
    raise BadInput(
        f"{len(rows)} district rows have a code that is not a 6-digit GB/T 2260 code "
        f"({listed(rows['code'])}); put the codes in the file, or, for a file with one "
        "district, give its code with --district-code",
        field="map",
    )


def _place(level, rows, geoms, above, options, report):
    """Gives a level's rows with parents and standard codes, and the district made for
    streets that lie in none (or None)."""
    width = CODE_LENGTH[level] - CODE_LENGTH[PARENT_LEVEL[level]]
    if is_standard(rows["code"], level):
        rows = rows.assign(parent=rows["code"].str[:-width])
        known = set(above[0]["code"]) | stored("spatial_adminarea", list(rows["parent"]))
        missing = (~rows["parent"].isin(known)).to_numpy()
        if level == "street" and options.create_parents and missing.any():
            return rows, _districts_of(rows[missing], geoms[missing], options, report)
        refuse(
            "{n} rows have a parent area (code prefix) that exists neither in the database nor "
            "the file: {items}"
            + (
                "; add --create-parents to create each district as the union of its streets"
                if level == "street"
                else ""
            ),
            rows.loc[missing, "code"],
        )
        return rows, None
    parent, created = _parents(level, rows, geoms, above, options, report)
    rows = rows.assign(source_code=rows["code"], parent=parent)
    rows["code"] = assign_codes(level, rows["parent"], rows["source_code"], geoms)
    report.setdefault("source_codes_kept", {})[level] = len(rows)
    return rows, created


ORPHAN_HELP = {
    "street": "add --create-parents --district-code CODE to create the district as the union "
    "of these streets (create_parents=true and district_code=CODE in the API)",
    "community": "load their streets first, put the streets in this file (with a level "
    "column), or name each community's street with --map parent=COLUMN",
    "unit_grid": "load the communities first (--as admin_areas), or name each grid's "
    "community with --map community=COLUMN",
}


def _parents(level, rows, geoms, above, options, report):
    """Gives each row's parent code: the one its parent column names (by standard or source
    code), else the area of the level above holding most of it; and the district made for
    streets in none when `create_parents` (or None)."""
    import pandas as pd

    up = PARENT_LEVEL[level]
    column = "community" if level == "unit_grid" else "parent"
    named = rows[column] if column in rows else pd.Series(pd.NA, index=rows.index, dtype="string")
    candidates = _Candidates(up, above[0], above[1], _bounds(geoms), sorted(set(named.dropna())))
    parent = candidates.by_reference(named).astype("string")
    unknown = named.notna() & parent.isna()
    refuse(
        f"{{n}} rows name a {column} that is no {up} in this file or the database: {{items}}",
        [f"{c} ({p})" for c, p in zip(rows.loc[unknown, "code"], named[unknown])],
    )
    parent = parent.fillna(candidates.by_overlap(geoms))
    orphans = parent.isna().to_numpy()
    if not orphans.any():
        return parent, None
    if level != "street" or not options.create_parents:
        refuse(
            f"{{n}} {PLURAL[level]} lie in no {up} (none in the database or this "
            f"file holds half of their area): {{items}}; {ORPHAN_HELP[level]}",
            sorted(rows.loc[orphans, "code"], key=natural),
        )
    code = options.district_code
    if not re.fullmatch(r"\d{6}", code or ""):
        raise BadInput(
            f"--create-parents makes the district of {orphans.sum()} streets that lie in none, "
            "and needs its 6-digit GB/T 2260 code: give --district-code CODE",
            field="district_code",
        )
    if code in set(candidates.rows["code"]) | stored("spatial_adminarea", [code]):
        raise BadInput(
            f"district {code} exists but holds less than half of streets "
            f"{listed(sorted(rows.loc[orphans, 'code'], key=natural))}; check the file's CRS, or give the code of "
            "the district they lie in",
            field="district_code",
        )
    parent[orphans] = code
    streets = rows[orphans].assign(parent=code)
    return parent, _districts_of(streets, geoms[orphans], options, report)


def _districts_of(streets: pd.DataFrame, geoms: np.ndarray, options: SetOptions, report: dict):
    """Gives the districts (rows, geometries) made as the union of the streets naming each as
    their parent, and reports them."""
    import pandas as pd

    codes = sorted(set(streets["parent"]))
    if options.district_code and codes != [options.district_code]:
        raise BadInput(
            f"the streets' codes begin with {listed(codes)}, not --district-code "
            f"{options.district_code}; leave it out to create the districts their codes name",
            field="district_code",
        )
    names = [options.district_name or c if len(codes) == 1 else c for c in codes]
    parts = [geoms[(streets["parent"] == c).to_numpy()] for c in codes]
    report["created_parents"] = [
        f"district {c} ({n}) created as the union of {len(p)} streets that lay in no district"
        for c, n, p in zip(codes, names, parts)
    ]
    created = pd.DataFrame(
        {"code": codes, "name": names, "level": "district", "parent": pd.NA}, dtype="string"
    ).assign(source_code=pd.Series(pd.NA, index=range(len(codes)), dtype="string"))
    return created, np.array([shapely.union_all(p) for p in parts], dtype=object)


def plan_unit_grids(data: pd.DataFrame, geoms: np.ndarray) -> Planned:
    """Gives unit grids ready to write: parent community and 14-digit code each."""
    import pandas as pd

    data, geoms, report = merge_parts(data, geoms)
    if is_standard(data["code"], "unit_grid"):
        data = data.assign(parent=data["code"].str[:12], source_code=pd.NA)
        known = stored("spatial_adminarea", list(data["parent"]))
        refuse(
            "{n} rows have a code whose first 12 digits are not an existing community: {items}",
            data.loc[~data["parent"].isin(known), "code"],
        )
        return Planned(data, geoms, report)
    nothing = pd.DataFrame({"code": [], "source_code": []}, dtype="string")
    parent, _ = _parents("unit_grid", data, geoms, (nothing, geoms[:0]), SetOptions(), report)
    data = data.assign(source_code=data["code"], parent=parent)
    data["code"] = assign_codes("unit_grid", data["parent"], data["source_code"], geoms)
    report["source_codes_kept"] = {"unit_grid": len(data)}
    return Planned(data, geoms, report)


def unit_grid_area_warnings(codes: list[str]) -> dict:
    """Gives the report's warnings for written unit grids outside UNIT_GRID_AREA_M2."""
    low, high = UNIT_GRID_AREA_M2
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, source_code, area_m2 FROM spatial_unitgrid WHERE code = ANY(%s) "
            "AND NOT area_m2 BETWEEN %s AND %s ORDER BY code",
            [codes, low, high],
        )
        rows = cur.fetchall()
    if not rows:
        return {}
    examples = [
        f"{code}{f' ({source})' if source else ''} {area:,.0f} m²" for code, source, area in rows
    ]
    return {
        "unit_grid_area": {"count": len(rows), "examples": examples[:MAX_LISTED]},
        "warnings": [
            f"{len(rows)} of {len(codes)} unit grids are outside {low:,.0f}–{high:,.0f} m² (a "
            f"unit grid is about 10,000 m²): {listed(examples)}"
        ],
    }
