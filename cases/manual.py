"""The responsibility manual (事项指挥手册) by class and area: who handles a minor class where
(the most specific entry of a place wins: community > street > district > citywide, as
`categories.recommended_department` picks), set one entry at a time, and as a spreadsheet."""

from __future__ import annotations

import io
import json

from django.db import connection

from accounts import permissions as perms
from accounts.models import Department
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, NotFound
from data.models import Category
from spatial.models import AdminArea

from .models import ManualEntry

CITYWIDE = "city"
SHEET_COLUMNS = (
    "类型",
    "小类编码",
    "小类名称",
    "区域编码",
    "区域名称",
    "责任部门编码",
    "责任部门",
    "处置标准",
)
# The areas' shapes for the map, simplified to about 10 m (served by the admin area primary key).
AREA_SHAPES_SQL = """
SELECT id, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 6)
FROM spatial_adminarea WHERE id = ANY(%(ids)s)
"""


def get_minor(kind: str, code: str) -> Category:
    """Gives the minor class of a kind (component, event) and code; `NotFound` otherwise."""
    category = Category.objects.filter(kind=kind, code=code, parent__isnull=False).first()
    if category is None:
        raise NotFound(f"no {kind} minor class {code}", field="category")
    return category


def _department(entry: ManualEntry) -> dict:
    return {"code": entry.department.code, "name": entry.department.name}


def manual_for(category: Category) -> dict:
    """Gives one class's manual: the citywide department and every area's own, each area with
    its shape (GeoJSON features), and the departments one may choose."""
    entries = list(
        ManualEntry.objects.filter(category=category).select_related("department", "area")
    )
    citywide = next((e for e in entries if e.area_id is None), None)
    by_area = [e for e in entries if e.area_id is not None]
    shapes = {}
    if by_area:
        with connection.cursor() as cur:
            cur.execute(AREA_SHAPES_SQL, {"ids": [e.area_id for e in by_area]})
            shapes = {pk: json.loads(text) for pk, text in cur.fetchall()}
    features = [
        {
            "type": "Feature",
            "geometry": shapes.get(e.area_id),
            "properties": {
                "area": e.area.code,
                "area_name": e.area.name,
                "level": e.area.level,
                "department": e.department.code,
                "department_name": e.department.name,
                "standard": e.standard,
            },
        }
        for e in sorted(by_area, key=lambda e: e.area.code)
    ]
    departments = Department.objects.filter(active=True, kind=Department.Kind.HANDLING)
    return {
        "category": {"code": category.code, "name": category.name, "kind": category.kind},
        "citywide": _department(citywide) if citywide else None,
        "areas": {"type": "FeatureCollection", "features": features},
        "departments": [{"code": d.code, "name": d.name} for d in departments.order_by("code")],
    }


def _area(code: str) -> AdminArea | None:
    if code == CITYWIDE:
        return None
    area = AdminArea.objects.filter(code=code).first()
    if area is None:
        raise NotFound(f"no area {code}", field="area")
    return area


@action(
    "cases.manual_entry",
    permission=perms.CONFIG_EDIT,
    target=lambda category, area_code, data: f"{category.kind}:{category.code}@{area_code}",
    details=lambda category, area_code, data: data,
)
def do_set_manual_entry(scope: Scope, category: Category, area_code: str, data: dict):
    """Gives the manual entry (事项指挥手册) of a minor class in an area (`city`: citywide)
    after setting its department and handling standard."""
    department = Department.objects.filter(code=data["department"], active=True).first()
    if department is None:
        raise BadInput(f"no active department {data['department']}", field="department")
    entry, _ = ManualEntry.objects.update_or_create(
        category=category,
        area=_area(area_code),
        defaults={"department": department, "standard": data.get("standard", "")},
    )
    return entry


@action(
    "cases.manual_entry_delete",
    permission=perms.CONFIG_EDIT,
    target=lambda category, area_code: f"{category.kind}:{category.code}@{area_code}",
)
def do_delete_manual_entry(scope: Scope, category: Category, area_code: str) -> None:
    """Drops an area's own entry: the place falls back to the larger area's or the citywide."""
    if area_code == CITYWIDE:
        raise BadInput("the citywide entry is changed, not dropped", field="area")
    deleted, _ = ManualEntry.objects.filter(category=category, area=_area(area_code)).delete()
    if not deleted:
        raise NotFound(f"{category.code} has no entry of its own in {area_code}", field="area")


def export_manual() -> bytes:
    """Gives the whole manual as an .xlsx workbook, one row per class and area."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "事项指挥手册"
    sheet.append(SHEET_COLUMNS)
    rows = ManualEntry.objects.select_related("category", "area", "department").order_by(
        "category__kind", "category__code", "area__code"
    )
    kinds = dict(Category.Kind.choices)
    for e in rows:
        sheet.append(
            [
                kinds.get(e.category.kind, e.category.kind),
                e.category.code,
                e.category.name,
                e.area.code if e.area_id else "",
                e.area.name if e.area_id else "全市",
                e.department.code,
                e.department.name,
                e.standard,
            ]
        )
    for column, width in zip("ABCDEFGH", (8, 10, 16, 14, 16, 14, 18, 40)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
