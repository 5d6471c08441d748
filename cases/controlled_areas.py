"""Controlled areas (管控区域, spec 5.2.2.1) and applications to suspend collection (暂停采集申请,
spec 5.1.2.20): the writes and the scoped reads.

A controlled area is `spatial.ControlledArea` (a layer of the registry, placed by `locate`); the
centre (`cases.register`) draws and edits them, with the collection requirement (采集要求), the
permit (附件: a photo or PDF, checked by its first bytes), the validity, the daily windows, the
classes and the effect. A handling department (`cases.handle`) applies to suspend collection in
an area for a period; the centre approves (the application becomes a forbidding area) or denies.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core import uploads
from core.errors import BadInput, Conflict, Forbidden, NotFound
from data.models import Category
from spatial import crs as crs_module
from spatial.models import ControlledArea, Layer
from spatial.services import share_outside_city

from . import report_rules
from .models import CollectionSuspension, RuleEffect
from .serializers import local_time

LAYER = "controlled_areas"
OUTSIDE_CITY_TOLERANCE = 0.001  # of the area: a drawn edge may run a little past the border
PERMIT_WHAT = "a photo (JPEG, PNG, WebP) or a PDF"


def area_geometry(value, crs: str = "EPSG:4326") -> MultiPolygon:
    """Gives a GeoJSON Polygon or MultiPolygon (holes allowed) in `crs` as a WGS84
    multipolygon; `BadInput` (field `geometry`) for anything else or an invalid ring."""
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadInput("the area is a GeoJSON Polygon or MultiPolygon", field="geometry")
    parsed = crs_module.parse_crs(crs)
    try:
        polygons = (
            value["coordinates"] if value["type"] == "MultiPolygon" else [value["coordinates"]]
        )
        rings = [[_ring(ring, parsed) for ring in polygon] for polygon in polygons]
        geom = GEOSGeometry(json.dumps({"type": "MultiPolygon", "coordinates": rings}), srid=4326)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError):
        raise BadInput("the area's coordinates are not polygon rings", field="geometry") from None
    if geom.empty or not geom.valid:
        raise BadInput(f"the area is not a valid polygon: {geom.valid_reason}", field="geometry")
    return geom


def _ring(ring, parsed) -> list[list[float]]:
    points = []
    for x, y in ring:
        lon, lat = crs_module.to_wgs84(float(x), float(y), parsed)
        points.append([lon, lat])
    return points


def category_codes(codes) -> list[str]:
    """Gives the class codes checked (major or minor codes that exist); `BadInput` otherwise."""
    codes = list(codes or [])
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise BadInput(f"no class {', '.join(unknown)}", field="categories")
    return codes


def _validity(valid_from, valid_to) -> None:
    if valid_from and valid_to and valid_to <= valid_from:
        raise BadInput("the validity ends after it starts", field="valid_to")


def visible_areas(scope: Scope):
    """The controlled areas the caller sees: the layer's scope (its grants and their area)."""
    layer = Layer.objects.filter(key=LAYER).first()
    if layer is None:
        return ControlledArea.objects.none()
    return ControlledArea.objects.visible_to(scope, layer)


def area_json(area: ControlledArea) -> dict:
    return {
        "id": area.pk,
        "name": area.name,
        "action": area.action,
        "action_name": area.get_action_display(),
        "reason": area.reason,
        "requirement": area.requirement,
        "categories": list(area.categories),
        "valid_from": local_time(area.valid_from),
        "valid_to": local_time(area.valid_to),
        "daily_windows": area.daily_windows,
        "permit": bool(area.attachment),
        "geometry": _geojson(area.geom),
    }


def _geojson(geom) -> dict:
    return json.loads(geom.geojson)


_AREA_FIELDS = ("name", "reason", "requirement", "valid_from", "valid_to", "action")


def _apply(area: ControlledArea, data: dict) -> None:
    for name in _AREA_FIELDS:
        if name in data:
            setattr(area, name, data[name])
    if "geometry" in data:
        area.geom = area_geometry(data["geometry"], data.get("crs") or "EPSG:4326")
        outside = share_outside_city(area.geom)
        if outside > OUTSIDE_CITY_TOLERANCE:
            raise BadInput(
                f"{outside:.0%} of the area lies outside the city's districts", field="geometry"
            )
    if "daily_windows" in data:
        area.daily_windows = report_rules.parse_windows(data["daily_windows"])
    if "categories" in data:
        area.categories = category_codes(data["categories"])
    if area.action not in RuleEffect.values:
        raise BadInput("action is forbid or warn", field="action")
    _validity(area.valid_from, area.valid_to)


@action(
    "cases.controlled_area",
    permission=perms.CASES_REGISTER,
    target=lambda area, data: str(area.pk) if area else "new",
    details=lambda area, data: {"fields": sorted(data)},
)
def do_save_controlled_area(scope: Scope, area: ControlledArea | None, data: dict):
    """Creates (`area` None) or edits a controlled area (管控区域) from checked fields."""
    if area is None:
        if "geometry" not in data or not data.get("name"):
            raise BadInput("a new area needs its name and geometry", field="geometry")
        area = ControlledArea()
    else:
        area = ControlledArea.objects.select_for_update().get(pk=area.pk)
    _apply(area, data)
    area.save()
    return area


@action("cases.controlled_area_permit", permission=perms.CASES_REGISTER)
def do_attach_permit(scope: Scope, area: ControlledArea, upload) -> ControlledArea:
    """Keeps the permit (附件: the construction permit) of a controlled area."""
    uploads.checked_type(upload, uploads.DOCUMENT_TYPES, "file", PERMIT_WHAT)
    area = ControlledArea.objects.select_for_update().get(pk=area.pk)
    area.attachment.save(upload.name or "permit", upload, save=True)
    return area


def get_area(scope: Scope, area_id: int) -> ControlledArea:
    area = visible_areas(scope).filter(pk=area_id).first()
    if area is None:
        raise NotFound(f"no controlled area {area_id}")
    return area


# ---------------------------------------------------------------------------------------------
# Applications to suspend collection


def visible_suspensions(scope: Scope):
    """The centre's applications in its area (system admins: all); a department's own."""
    rows = CollectionSuspension.objects.select_related("department")
    if scope.sees_everything:
        return rows
    if scope.has_perm(perms.CASES_REGISTER):
        return rows.visible_to(scope)
    if scope.has_perm(perms.CASES_HANDLE) and scope.department_id is not None:
        return rows.filter(department_id=scope.department_id)
    return rows.none()


def suspension_json(row: CollectionSuspension) -> dict:
    return {
        "id": row.pk,
        "state": row.state,
        "state_name": row.get_state_display(),
        "department": {"code": row.department.code, "name": row.department.name},
        "name": row.name,
        "reason": row.reason,
        "requirement": row.requirement,
        "categories": list(row.categories),
        "valid_from": local_time(row.valid_from),
        "valid_to": local_time(row.valid_to),
        "daily_windows": row.daily_windows,
        "permit": bool(row.permit),
        "applied_at": local_time(row.applied_at),
        "answered_at": local_time(row.answered_at),
        "opinion": row.opinion,
        "area": row.area_id,
        "geometry": _geojson(row.geom),
    }


@action("cases.apply_suspension", permission=perms.CASES_HANDLE)
def do_apply_suspension(
    scope: Scope, data: dict, permit=None, *, at: dt.datetime | None = None
) -> CollectionSuspension:
    """A department applies to suspend collection (暂停采集) in an area for a period."""
    if scope.department_id is None:
        raise Forbidden("only a department's people apply to suspend collection")
    if permit is not None:
        uploads.checked_type(permit, uploads.DOCUMENT_TYPES, "permit", PERMIT_WHAT)
    _validity(data["valid_from"], data["valid_to"])
    row = CollectionSuspension(
        department_id=scope.department_id,
        applicant=scope.user,
        name=data["name"],
        geom=area_geometry(data["geometry"], data.get("crs") or "EPSG:4326"),
        reason=data["reason"],
        requirement=data.get("requirement", ""),
        categories=category_codes(data.get("categories")),
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        daily_windows=report_rules.parse_windows(data.get("daily_windows")),
        applied_at=at or timezone.now(),
    )
    if permit is not None:
        row.permit.save(permit.name or "permit", permit, save=False)
    row.save()
    return row


@action(
    "cases.answer_suspension",
    permission=perms.CASES_REGISTER,
    target=lambda row, approve, opinion, **_: str(row.pk),
    details=lambda row, approve, opinion, **_: {"approve": approve},
)
def do_answer_suspension(
    scope: Scope, row: CollectionSuspension, approve: bool, opinion: str, *, at=None
) -> CollectionSuspension:
    """The centre answers an application: approved, it becomes a forbidding controlled area
    with the application's place, period, windows, classes, reason, requirement and permit."""
    row = CollectionSuspension.objects.select_for_update().get(pk=row.pk)
    if row.state != CollectionSuspension.State.PENDING:
        raise Conflict(
            f"the application is already {row.get_state_display()}",
            current={"state": row.state},
        )
    if not approve and not opinion.strip():
        raise BadInput("say why the application is denied", field="opinion")
    row.state = (
        CollectionSuspension.State.APPROVED if approve else CollectionSuspension.State.DENIED
    )
    row.answered_by = scope.user
    row.answered_at = at or timezone.now()
    row.opinion = opinion
    if approve:
        row.area = ControlledArea.objects.create(
            name=row.name,
            geom=row.geom,
            action=RuleEffect.FORBID,
            reason=row.reason,
            requirement=row.requirement,
            categories=row.categories,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            daily_windows=row.daily_windows,
            attachment=row.permit.name or None,
        )
    row.save()
    return row


def get_suspension(scope: Scope, row_id: int) -> CollectionSuspension:
    row = visible_suspensions(scope).filter(pk=row_id).first()
    if row is None:
        raise NotFound(f"no application {row_id}")
    return row
