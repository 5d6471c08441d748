"""The minor classes' registration and closure conditions (立案条件, 结案条件), their time limits
(小类计时), the responsibility manual (事项指挥手册), and the category tree the API serves.

Defaults, loaded after every migrate by `load_case_defaults` (idempotent, it only adds what is
missing, so edits made in the admin survive the next migrate):

- Conditions: `cases/defaults/conditions.csv`, one to three registration conditions and one or
  more closure conditions per minor class, keyed by (class, kind, code); a row's
  `category_name` must match the code table.
- Time limits of the handling stage (处置时限), in working hours, for every registration
  condition that has no limit rows yet, from the class's `handling_limit_hours` H. Timing
  zones: core (核心区域) 0.75 H, the tighter; general (一般区域) H; outer (外围区域) 1.5 H; any
  zone (a place outside every timing zone) H. Levels serious (严重) and major (重大) halve the
  zone's amount; routine and general use the any-level row. So 12 rows per condition:
  (any, core, general, outer) × (any, serious, major). Each amount is rounded up to the half
  hour, at least half an hour (``ZONE_FACTORS``, ``LEVEL_FACTORS``).

`load_demo_manual` writes the demo city's citywide manual: each minor class goes to the demo
handling department (``H-<key>``, `accounts.demo.HANDLING`) named by its code-table
`default_department` (``DEMO_DEPARTMENTS``).
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path

from django.db import connections, transaction
from django.db.models import Prefetch, Q

from accounts.models import Department
from cases.models import Condition, LimitUnit, ManualEntry, State, TimeLimit
from data.models import Category
from spatial.models import AdminArea

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
CONDITIONS_FILE = DEFAULTS_DIR / "conditions.csv"

# Multipliers of a class's handling limit, by timing zone kind and by case level ("": any).
ZONE_FACTORS: dict[str, Decimal] = {
    "": Decimal("1"),
    "core": Decimal("0.75"),
    "general": Decimal("1"),
    "outer": Decimal("1.5"),
}
LEVEL_FACTORS: dict[str, Decimal] = {
    "": Decimal("1"),
    "serious": Decimal("0.5"),
    "major": Decimal("0.5"),
}

# The code tables' `default_department` → the demo handling department's key (code ``H-<key>``).
DEMO_DEPARTMENTS: dict[str, str] = {
    "市政": "shizheng",
    "园林": "yuanlin",
    "环卫": "huanwei",
    "交通": "jiaotong",
    "水务": "shuiwu",
    "供电": "gongdian",
    "城管执法": "chengguan",
    "住建": "zhujian",
    "燃气": "ranqi",
    "热力": "reli",
    "应急": "yingji",
    "通信": "tongxin",
    "消防": "xiaofang",
    "邮政": "youzheng",
    "人防": "renfang",
    "公安": "gongan",
}

AREA_RANK = {
    AdminArea.Level.COMMUNITY: 3,
    AdminArea.Level.STREET: 2,
    AdminArea.Level.DISTRICT: 1,
}


# --- defaults ---------------------------------------------------------------------------------


def read_conditions() -> list[dict[str, str]]:
    """Rows of `conditions.csv`, checked for kinds and duplicate codes."""
    with open(CONDITIONS_FILE, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen: set[tuple[str, str, str, str]] = set()
    for row in rows:
        key = (row["category_kind"], row["category_code"], row["kind"], row["code"])
        if row["kind"] not in Condition.Kind.values:
            raise ValueError(f"{CONDITIONS_FILE.name}: bad kind {row['kind']!r}")
        if key in seen:
            raise ValueError(f"{CONDITIONS_FILE.name}: {key} appears twice")
        seen.add(key)
    return rows


def default_amount(hours: int, zone: str, level: str) -> Decimal:
    """Gives the default limit in working hours of a class limit `hours` in `zone` at `level`
    (blank: any), rounded up to the half hour."""
    raw = Decimal(hours) * ZONE_FACTORS[zone] * LEVEL_FACTORS[level]
    return max(Decimal("0.5"), Decimal(math.ceil(raw * 2)) / 2)


def default_limits(condition: Condition, hours: int) -> list[TimeLimit]:
    """Gives the unsaved default handling-stage rows of one registration condition."""
    return [
        TimeLimit(
            condition=condition,
            stage=State.HANDLING,
            zone=zone,
            level=level,
            amount=default_amount(hours, zone, level),
            unit=LimitUnit.WORKING_HOURS,
        )
        for zone in ZONE_FACTORS
        for level in LEVEL_FACTORS
    ]


def load_case_defaults(sender=None, using: str = "default", **kwargs) -> dict[str, int]:
    """Adds the missing default conditions and the default time limits of conditions that
    have none; gives how many conditions and limit rows were added. A `post_migrate` receiver
    (after `data` has loaded the code tables)."""
    tables = connections[using].introspection.table_names()
    if Condition._meta.db_table not in tables or TimeLimit._meta.db_table not in tables:
        return {"conditions": 0, "limits": 0}
    rows = read_conditions()
    with transaction.atomic(using=using):
        minors = {
            (c.kind, c.code): c for c in Category.objects.using(using).filter(parent__isnull=False)
        }
        existing = {
            (c.category_id, c.kind, c.code): c for c in Condition.objects.using(using).all()
        }
        wanted: list[Condition] = []
        missing: list[Condition] = []
        for order, row in enumerate(rows):
            category = minors.get((row["category_kind"], row["category_code"]))
            if category is None or category.name != row["category_name"]:
                raise ValueError(
                    f"{CONDITIONS_FILE.name}: no minor class {row['category_kind']} "
                    f"{row['category_code']} {row['category_name']}"
                )
            condition = existing.get((category.pk, row["kind"], row["code"]))
            if condition is None:
                condition = Condition(
                    category=category,
                    kind=row["kind"],
                    code=row["code"],
                    text=row["text"],
                    sort_order=order,
                )
                missing.append(condition)
            condition.category = category
            wanted.append(condition)
        Condition.objects.using(using).bulk_create(missing)
        registers = [c for c in wanted if c.kind == Condition.Kind.REGISTER]
        limited = set(
            TimeLimit.objects.using(using)
            .filter(condition__in=registers)
            .values_list("condition_id", flat=True)
        )
        limits = [
            row
            for c in registers
            if c.pk not in limited and c.category.handling_limit_hours
            for row in default_limits(c, c.category.handling_limit_hours)
        ]
        TimeLimit.objects.using(using).bulk_create(limits)
    return {"conditions": len(missing), "limits": len(limits)}


def manual_standard(category: Category, closures: list[Condition]) -> str:
    """Gives the handling standard (处置标准) text of a class's manual entry."""
    texts = "；".join(c.text for c in closures)
    hours = category.handling_limit_hours
    within = f"接到派遣后{hours}个工作时内处置完毕" if hours else "接到派遣后及时处置"
    return f"{within}，达到结案条件：{texts}。" if texts else f"{within}。"


@transaction.atomic
def load_demo_manual() -> dict[str, int]:
    """Adds a citywide manual entry for every minor class that has none, handled by the demo
    department its `default_department` names; gives counts of entries created, already
    there, and skipped (no such department: run `build_demo_organization` first)."""
    codes = {f"H-{key}" for key in DEMO_DEPARTMENTS.values()}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    citywide = set(
        ManualEntry.objects.filter(area__isnull=True).values_list("category_id", flat=True)
    )
    closures = Condition.objects.filter(kind=Condition.Kind.CLOSE, active=True)
    minors = Category.objects.filter(parent__isnull=False).prefetch_related(
        Prefetch("conditions", queryset=closures, to_attr="closures")
    )
    entries, skipped = [], 0
    for category in minors:
        if category.pk in citywide:
            continue
        key = DEMO_DEPARTMENTS.get(category.default_department)
        department = departments.get(f"H-{key}") if key else None
        if department is None:
            skipped += 1
            continue
        hours = category.handling_limit_hours
        entries.append(
            ManualEntry(
                category=category,
                area=None,
                department=department,
                limit_amount=Decimal(hours) if hours else None,
                limit_unit=LimitUnit.WORKING_HOURS if hours else "",
                standard=manual_standard(category, category.closures),
            )
        )
    ManualEntry.objects.bulk_create(entries)
    return {"created": len(entries), "existing": len(citywide), "skipped": skipped}


# --- look-ups ---------------------------------------------------------------------------------


def time_limit(
    condition: Condition, zone: str, level: str, stage: str = State.HANDLING
) -> tuple[Decimal, str] | None:
    """Gives (amount, unit) of the most specific limit row of `condition` for a stage, timing
    zone kind and case level: zone and level both given > zone only > level only > neither.
    None when no row applies. Uses the condition's prefetched ``limits`` when there are any."""
    prefetched = getattr(condition, "_prefetched_objects_cache", {}).get("limits")
    if prefetched is not None:
        rows = [r for r in prefetched if r.stage == stage]
    else:
        rows = list(TimeLimit.objects.filter(condition=condition, stage=stage))
    fitting = [r for r in rows if r.zone in ("", zone) and r.level in ("", level)]
    if not fitting:
        return None
    best = max(fitting, key=lambda r: (r.zone != "") * 2 + (r.level != ""))
    return best.amount, best.unit


def recommended_department(category: Category, area_codes: list[str]) -> ManualEntry | None:
    """Gives the manual entry for `category` whose area is the most specific of `area_codes`
    (community > street > district), else the citywide one; entries of inactive departments
    do not count. `area_codes` are the 6/9/12-digit codes of the place (a case's snapshot)."""
    codes = [code for code in area_codes if code]
    entries = (
        ManualEntry.objects.filter(category=category, department__active=True)
        .filter(Q(area__isnull=True) | Q(area__code__in=codes))
        .select_related("department", "area")
    )
    return max(entries, key=lambda e: AREA_RANK.get(e.area.level, 0) if e.area else 0, default=None)


# --- the tree ---------------------------------------------------------------------------------


def _number(amount: Decimal | None) -> float | int | None:
    if amount is None:
        return None
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _minor(category: Category) -> dict:
    registers = [c for c in category.active_conditions if c.kind == Condition.Kind.REGISTER]
    closures = [c for c in category.active_conditions if c.kind == Condition.Kind.CLOSE]
    manual = category.citywide[0] if category.citywide else None
    return {
        "code": category.code,
        "name": category.name,
        "kind": category.kind,
        "default_department": category.default_department,
        "handling_limit_hours": category.handling_limit_hours,
        "register_conditions": [
            {
                "id": c.pk,
                "code": c.code,
                "text": c.text,
                "limits": [
                    {
                        "stage": r.stage,
                        "zone": r.zone,
                        "level": r.level,
                        "amount": _number(r.amount),
                        "unit": r.unit,
                    }
                    for r in c.limits.all()
                ],
            }
            for c in registers
        ],
        "close_conditions": [{"id": c.pk, "code": c.code, "text": c.text} for c in closures],
        "manual": _manual(manual) if manual else None,
    }


def _manual(entry: ManualEntry) -> dict:
    return {
        "department": {"code": entry.department.code, "name": entry.department.name},
        "limit_amount": _number(entry.limit_amount),
        "limit_unit": entry.limit_unit,
        "standard": entry.standard,
    }


def category_tree(kind: str | None = None) -> list[dict]:
    """Gives the major classes with their minor classes, each with its active conditions,
    their limits and its citywide manual entry, in four queries."""
    conditions = Condition.objects.filter(active=True).prefetch_related("limits")
    citywide = ManualEntry.objects.filter(area__isnull=True).select_related("department")
    categories = Category.objects.order_by("kind", "code").prefetch_related(
        Prefetch("conditions", queryset=conditions, to_attr="active_conditions"),
        Prefetch("manual_entries", queryset=citywide, to_attr="citywide"),
    )
    if kind:
        categories = categories.filter(kind=kind)
    majors: dict[int, dict] = {}
    minors: list[Category] = []
    for category in categories:
        if category.parent_id is None:
            majors[category.pk] = {
                "code": category.code,
                "name": category.name,
                "kind": category.kind,
                "children": [],
            }
        else:
            minors.append(category)
    for category in minors:
        if category.parent_id in majors:
            majors[category.parent_id]["children"].append(_minor(category))
    return list(majors.values())
