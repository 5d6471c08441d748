"""Gives standard codes (CJ/T 213, GB/T 2260) for the areas and unit grids of a set that
came with codes of its own: each the parent's code + a serial, in a fixed order, the codes
already stored for the same source codes kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import re

import numpy as np
import shapely
from django.db import connection
from psycopg2 import sql

from core.errors import BadInput

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import pandas as pd

MAX_LISTED = 20
PARENT_LEVEL = {"street": "district", "community": "street", "unit_grid": "community"}
# CJ/T 213: district (GB/T 2260, 6 digits) + street 3 + community 3 + unit grid serial 2.
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "unit_grid": 14}
PLURAL = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "unit_grid": "unit grids",
}


def listed(items) -> str:
    """Gives the first MAX_LISTED items joined, with how many more there are."""
    items = list(items)
    text = ", ".join(str(i) for i in items[:MAX_LISTED])
    return text + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def refuse(message: str, items) -> None:
    """`BadInput` with `message` ({n} and {items} filled in) when there are any items."""
    items = list(items)
    if items:
        raise BadInput(message.format(n=len(items), items=listed(items)), field="map")


def natural(code: str) -> tuple:
    """Gives a sort key comparing the numbers in a code as numbers (SQ-2 before SQ-10)."""
    return tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", code)
    )


def stored(table: str, codes: list[str]) -> set[str]:
    """Gives which of `codes` are stored in `table` (its code btree)."""
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code FROM {} WHERE code = ANY(%s)").format(sql.Identifier(table)),
            [sorted(set(codes))],
        )
        return {r[0] for r in cur.fetchall()}


def assign_codes(level: str, parent: pd.Series, source: pd.Series, geoms: np.ndarray) -> pd.Series:
    """Gives standard codes for rows with their own codes: the parent's code + a serial, in
    the order of the source codes (numbers in them compared as numbers), then north to south
    and west to east. A row whose source code is already stored under that parent keeps its
    code; new serials follow the highest one in use."""
    import pandas as pd

    length = CODE_LENGTH[level]
    width = length - CODE_LENGTH[PARENT_LEVEL[level]]
    table = "spatial_unitgrid" if level == "unit_grid" else "spatial_adminarea"
    taken = _taken_under(table, length, width, sorted(set(parent)))
    known = {
        (c[:-width], s): c for c, s in zip(taken["code"], taken["source_code"]) if s is not pd.NA
    }
    serial = taken.groupby(taken["code"].str[:-width])["code"].max().str[-width:].astype(int)
    point = shapely.point_on_surface(geoms)
    key = pd.DataFrame(
        {
            "parent": parent.to_numpy(),
            "natural": source.map(natural).to_numpy(),
            "y": -shapely.get_y(point),
            "x": shapely.get_x(point),
        }
    )
    codes = pd.Series(pd.NA, index=source.index, dtype="string")
    full = []
    for row in key.sort_values(["parent", "natural", "y", "x"]).index:
        p, s = key.at[row, "parent"], source.iloc[row]
        if (p, s) in known:
            codes.iloc[row] = known[(p, s)]
            continue
        n = int(serial.get(p, 0)) + 1
        serial[p] = n
        if n >= 10**width:
            full.append(p)
        codes.iloc[row] = f"{p}{n:0{width}d}"
    refuse(
        f"{{n}} {PLURAL[PARENT_LEVEL[level]]} would hold more {PLURAL[level]} than a "
        f"{width}-digit serial numbers (CJ/T 213): {{items}}",
        sorted(set(full)),
    )
    return codes


def _taken_under(table: str, length: int, width: int, parents: list[str]) -> pd.DataFrame:
    import pandas as pd

    with connection.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT code, source_code FROM {} WHERE length(code) = %(len)s "
                "AND left(code, %(plen)s) = ANY(%(parents)s) AND code ~ '^[0-9]+$'"
            ).format(sql.Identifier(table)),
            {"len": length, "plen": length - width, "parents": parents},
        )
        return pd.DataFrame(cur.fetchall(), columns=["code", "source_code"], dtype="string")


def is_standard(codes: pd.Series, level: str) -> bool:
    """Gives whether a level's codes are all standard (True) or all the set's own (False);
    `BadInput` for a mix, which is a typo more often than a set's own codes."""
    standard = codes.str.fullmatch(rf"\d{{{CODE_LENGTH[level]}}}").fillna(False)
    if standard.all() or not standard.any():
        return bool(standard.all())
    raise BadInput(
        f"{(~standard).sum()} {PLURAL[level]} have a code that is not {CODE_LENGTH[level]} "
        f"digits ({listed(sorted(codes[~standard], key=natural))}) while "
        f"{standard.sum()} have one; give all of them standard codes, or all their own codes "
        "(kept as source_code, with standard codes assigned)",
        field="map",
    )
