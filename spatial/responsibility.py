"""Responsibility grids (责任网格) built from unit grids, and their versions.

A responsibility grid is a set of unit grids of one street; its shape is their union
(`services.refresh_responsibility_grid`). A unit grid belongs to at most one responsibility
grid: taking unit grids that another grid holds is refused unless the caller moves them
(`move`), and never leaves that grid empty. A new grid's code follows the demo city's rule:
the 12-digit code of the community holding most of its unit grids, `R`, and the next two-digit
serial in that community (`110108001001R03`).

Every write closes the grid's current version and appends the new one
(`ResponsibilityGridVersion`), for the grid it edits and for each grid it took unit grids from,
so `grid_on(grid, at)` answers the grid as it was at any time since versions were kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from django.db import connection
from django.db.models import F, Q

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, NotFound

from .models import Layer, ResponsibilityGrid, ResponsibilityGridVersion, UnitGrid
from .services import refresh_responsibility_grid

LAYER = "responsibility_grids"
MAX_UNIT_GRIDS = 500
SERIAL_RE = re.compile(r"^(\d{12})R(\d+)$")


def visible_grids(scope: Scope):
    """The responsibility grids the caller may read (the layer's grants and the caller's area)."""
    layer = Layer.objects.filter(key=LAYER).first()
    return ResponsibilityGrid.objects.visible_to(scope, layer)


def get_grid(scope: Scope, code: str) -> ResponsibilityGrid:
    grid = visible_grids(scope).filter(code=code).select_related("street").first()
    if grid is None:
        raise NotFound(f"no responsibility grid {code}", field="code")
    return grid


def grid_json(grid: ResponsibilityGrid, *, geometry: bool = True) -> dict:
    """Gives the current grid as the API shows it."""
    codes = sorted(grid.unit_grids.values_list("code", flat=True))
    out = {
        "code": grid.code,
        "name": grid.name,
        "street": grid.street.code if grid.street_id else None,
        "street_name": grid.street.name if grid.street_id else None,
        "unit_grids": codes,
        "area_m2": _area_m2(grid) if grid.geom else None,
        "parts": len(grid.geom) if grid.geom else 0,
        "as_of": None,
    }
    if geometry:
        out["geometry"] = _geojson(grid.geom)
    return out


def _geojson(geom) -> dict | None:
    import json

    return json.loads(geom.geojson) if geom else None


def _area_m2(grid: ResponsibilityGrid) -> float:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_Area(geom::geography) FROM spatial_responsibilitygrid WHERE id = %s",
            [grid.pk],
        )
        return round(cur.fetchone()[0], 1)


def grid_on(grid: ResponsibilityGrid, at: dt.datetime) -> dict:
    """Gives the grid as it was at `at`: the version in force then, or the current grid when
    it was never edited; `NotFound` when it did not exist yet."""
    versions = grid.versions.all()
    if not versions.exists():
        return {**grid_json(grid), "as_of": at.isoformat()}
    version = (
        versions.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
        .first()
    )
    if version is None:
        raise NotFound(f"responsibility grid {grid.code} did not exist at {at.isoformat()}", "on")
    return {
        "code": version.code,
        "name": version.name,
        "street": version.street_code or None,
        "street_name": None,
        "unit_grids": sorted(version.unit_grid_codes),
        "area_m2": None,
        "parts": len(version.geom) if version.geom else 0,
        "as_of": at.isoformat(),
        "geometry": _geojson(version.geom),
    }


def history(grid: ResponsibilityGrid) -> list[dict]:
    """Gives the grid's versions, oldest first."""
    return [
        {
            "name": v.name,
            "street": v.street_code or None,
            "unit_grids": sorted(v.unit_grid_codes),
            "valid_from": v.valid_from.isoformat() if v.valid_from else None,
            "valid_to": v.valid_to.isoformat() if v.valid_to else None,
            "changed_by": v.changed_by,
            "change": v.change,
        }
        for v in grid.versions.order_by(F("valid_from").asc(nulls_first=True), "pk")
    ]


# ---- writes ------------------------------------------------------------------------------------


def _unit_grids(scope: Scope, codes: list[str]) -> list[UnitGrid]:
    """Gives the named unit grids (locked), each inside the caller's area; `BadInput` naming
    the first that is not."""
    if not codes:
        raise BadInput("tick at least one unit grid", field="unit_grids")
    if len(codes) > MAX_UNIT_GRIDS:
        raise BadInput(f"at most {MAX_UNIT_GRIDS} unit grids in one grid", field="unit_grids")
    if len(set(codes)) < len(codes):
        twice = next(c for c, n in Counter(codes).items() if n > 1)
        raise BadInput(f"unit grid {twice} is named twice", field="unit_grids")
    found = {
        u.code: u
        for u in UnitGrid.objects.visible_to(scope)
        .filter(code__in=codes)
        .select_related("community__parent")
        .select_for_update(of=("self",))
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise BadInput(f"no unit grid {missing[0]} in your area", field="unit_grids")
    return [found[c] for c in codes]


def _one_street(units: list[UnitGrid]):
    streets = {u.community.parent_id: u.community.parent for u in units}
    if len(streets) > 1:
        names = "、".join(sorted(f"{s.name} ({s.code})" for s in streets.values() if s))
        raise BadInput(
            f"the unit grids lie in {len(streets)} streets ({names}); a responsibility grid "
            "lies in one street",
            field="unit_grids",
        )
    return next(iter(streets.values()))


def _next_code(units: list[UnitGrid]) -> str:
    """Gives the code of a new grid: the community holding most of `units` (ties: the lower
    code), `R`, and the next serial there."""
    counts = Counter(u.community.code for u in units)
    community = min(counts, key=lambda c: (-counts[c], c))
    used = [
        int(m.group(2))
        for code in ResponsibilityGrid.objects.filter(code__startswith=f"{community}R")
        .select_for_update()
        .values_list("code", flat=True)
        if (m := SERIAL_RE.match(code))
    ]
    return f"{community}R{max(used, default=0) + 1:02d}"


def _holders(units: list[UnitGrid], grid: ResponsibilityGrid | None) -> dict:
    """Gives {other grid: [unit grid codes it holds among `units`]}, the grids locked."""
    through = ResponsibilityGrid.unit_grids.through
    rows = through.objects.filter(unitgrid_id__in=[u.pk for u in units])
    if grid is not None:
        rows = rows.exclude(responsibilitygrid_id=grid.pk)
    by_grid: dict[int, list[str]] = {}
    code_of = {u.pk: u.code for u in units}
    for gid, uid in rows.values_list("responsibilitygrid_id", "unitgrid_id"):
        by_grid.setdefault(gid, []).append(code_of[uid])
    grids = ResponsibilityGrid.objects.select_for_update().filter(pk__in=by_grid).order_by("code")
    return {g: sorted(by_grid[g.pk]) for g in grids}


def _close_and_append(
    grid: ResponsibilityGrid, before: dict | None, at: dt.datetime, who: str, change: str
) -> None:
    """Closes the grid's current version at `at` (writing how it was before when it never had
    one) and appends its state now."""
    current = grid.versions.filter(valid_to__isnull=True)
    if before is not None and not grid.versions.exists():
        ResponsibilityGridVersion.objects.create(
            grid=grid, valid_from=None, change="before", **before
        )
    current.update(valid_to=at)
    ResponsibilityGridVersion.objects.create(
        grid=grid, valid_from=at, changed_by=who, change=change, **_state(grid)
    )


def _state(grid: ResponsibilityGrid) -> dict:
    grid.refresh_from_db()
    return {
        "code": grid.code,
        "name": grid.name,
        "street_code": grid.street.code if grid.street_id else "",
        "unit_grid_codes": sorted(grid.unit_grids.values_list("code", flat=True)),
        "geom": grid.geom,
    }


def _check_shape(grid: ResponsibilityGrid) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_IsValid(geom), ST_IsValidReason(geom) FROM spatial_responsibilitygrid "
            "WHERE id = %s",
            [grid.pk],
        )
        valid, reason = cur.fetchone()
    if not valid:
        raise BadInput(f"the union of the unit grids is not valid: {reason}", field="unit_grids")


def _who(scope: Scope) -> str:
    return scope.actor_name[:150]


@action(
    "spatial.responsibility_grid",
    permission=perms.LAYERS_EDIT,
    target=lambda data, grid=None, **_: grid.code if grid else "new",
    details=lambda data, grid=None, **_: {k: v for k, v in data.items() if k != "geometry"},
)
def do_save_responsibility_grid(
    scope: Scope, data: dict, grid: ResponsibilityGrid | None = None, *, at: dt.datetime
) -> ResponsibilityGrid:
    """Gives the created (grid None) or edited responsibility grid (责任网格): `name`, and
    `unit_grids` (codes) whose union is its shape; `move` takes unit grids other grids hold
    (never emptying one). Versions are closed and appended at `at` for every grid changed."""
    before = None
    if grid is not None:
        grid = ResponsibilityGrid.objects.select_for_update().get(pk=grid.pk)
        before = _state(grid)
    codes = data.get("unit_grids")
    units = _unit_grids(scope, list(codes)) if codes is not None else None
    losers: dict = {}
    if units is not None:
        street = _one_street(units)
        if grid is not None and grid.street_id and street and street.pk != grid.street_id:
            raise BadInput(
                f"the grid lies in street {grid.street.name}; its unit grids cannot move to "
                f"{street.name}",
                field="unit_grids",
            )
        losers = _holders(units, grid)
        if losers and not data.get("move"):
            other, taken = next(iter(losers.items()))
            raise Conflict(
                f"unit grid {taken[0]} is in responsibility grid {other.name} ({other.code}); "
                "choose move to take it over",
                field="unit_grids",
            )
        for other, taken in losers.items():
            if other.unit_grids.count() == len(taken):
                raise Conflict(
                    f"moving {', '.join(taken)} would leave responsibility grid {other.name} "
                    f"({other.code}) with no unit grid",
                    field="unit_grids",
                )
    if grid is None:
        if units is None:
            raise BadInput("tick at least one unit grid", field="unit_grids")
        grid = ResponsibilityGrid.objects.create(
            code=_next_code(units), name=data["name"], street=street
        )
    elif "name" in data:
        grid.name = data["name"]
        grid.save(update_fields=["name"])
    for other, taken in losers.items():
        other_before = _state(other)
        other.unit_grids.remove(*[u for u in units if u.code in taken])
        refresh_responsibility_grid(other)
        _close_and_append(other, other_before, at, _who(scope), "lost")
    if units is not None:
        grid.unit_grids.set(units)
        refresh_responsibility_grid(grid)
        _check_shape(grid)
    _close_and_append(grid, before, at, _who(scope), "edited" if before else "created")
    grid.refresh_from_db()
    return grid
