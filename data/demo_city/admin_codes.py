"""Real district (区) and street (街道) codes for the demo city, from the national statistical
division codes in ``shared/data/admin-codes/`` when present, else from the small built-in copy
``admin_codes.csv`` (海淀区 and its streets)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BUILTIN_CSV = Path(__file__).resolve().parent / "admin_codes.csv"
DEFAULT_DISTRICT = "110108"

# Streets of 海淀区 around the default centre (学院路, 中关村, 五道口), nearest first; the other
# streets follow in code order.
PREFERRED_STREETS = {
    "110108": [
        "110108010",
        "110108011",
        "110108014",
        "110108018",
        "110108008",
        "110108024",
        "110108015",
        "110108012",
        "110108007",
        "110108022",
    ],
}


@dataclass(frozen=True)
class District:
    """A real county-level district with its real streets (code, name), in preferred order."""

    code: str
    name: str
    streets: list[tuple[str, str]]


def shared_codes_dir() -> Path:
    """Where the national code tables live (setting ``ADMIN_CODES_DIR`` overrides)."""
    default = Path(settings.BASE_DIR).parent / "shared" / "data" / "admin-codes"
    return Path(getattr(settings, "ADMIN_CODES_DIR", default))


def _read_shared(code: str, folder: Path) -> District | None:
    areas, streets = folder / "areas.csv", folder / "streets.csv"
    if not (areas.exists() and streets.exists()):
        return None
    with open(areas, encoding="utf-8") as fh:
        names = {r["code"]: r["name"] for r in csv.DictReader(fh)}
    if code not in names:
        return None
    with open(streets, encoding="utf-8") as fh:
        rows = [(r["code"], r["name"]) for r in csv.DictReader(fh) if r["areaCode"] == code]
    return District(code, names[code], _ordered(code, sorted(rows)))


def _read_builtin(code: str) -> District | None:
    with open(BUILTIN_CSV, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    district = [r for r in rows if r["level"] == "district" and r["code"] == code]
    if not district:
        return None
    streets = sorted(
        (r["code"], r["name"])
        for r in rows
        if r["level"] == "street" and r["code"].startswith(code)
    )
    return District(code, district[0]["name"], _ordered(code, streets))


def _ordered(code: str, streets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    first = PREFERRED_STREETS.get(code, [])
    rank = {c: k for k, c in enumerate(first)}
    return sorted(streets, key=lambda s: (rank.get(s[0], len(first)), s[0]))


def load_district(code: str = DEFAULT_DISTRICT) -> District:
    """The district with real code `code` and its real streets, nearest-to-centre first."""
    district = _read_shared(code, shared_codes_dir()) or _read_builtin(code)
    if district is None or not district.streets:
        raise ValueError(f"no district with code {code} and streets in the admin code tables")
    return district
