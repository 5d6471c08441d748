"""The wall screen's other panels: migration lines (迁徙图) from the areas cases come from to
the departments that handle them, the component panel's list (部件列表), and the inspectors
online with their alarms (在线监督员与报警), each scoped like its own app.
"""

from __future__ import annotations

from django.contrib.gis.db.models import Collect
from django.contrib.gis.db.models.functions import Centroid, PointOnSurface
from django.db import connection
from django.db.models import Count, F
from psycopg2 import sql

from accounts.models import Department
from accounts.scoping import Scope
from spatial.models import AdminArea, Layer
from tracking import queries as tracking_queries

from .statistics import Selection


def _xy(point) -> list[float] | None:
    return [round(point.x, 6), round(point.y, 6)] if point is not None else None


def flows(scope: Scope, chosen: Selection, limit: int = 60) -> dict:
    """Gives the migration lines: per (street, handling department), the selected cases
    dispatched to it. A line starts at the street's point on surface and ends at the
    department's seat: the point on surface of the area it serves, or, for a city-wide
    department without one, the centroid of the cases it was sent in the period."""
    dispatched = chosen.cases(scope).filter(department__isnull=False).exclude(street_code="")
    pairs = list(
        dispatched.values(
            "street_code",
            "street_name",
            code=F("department__code"),
            name=F("department__name"),
        )
        .annotate(count=Count("id"))
        .order_by("-count", "street_code", "code")[:limit]
    )
    streets = {
        a.code: a.centre
        for a in AdminArea.objects.filter(code__in={p["street_code"] for p in pairs}).annotate(
            centre=PointOnSurface("geom")
        )
    }
    codes = {p["code"] for p in pairs}
    seats = {
        d.code: d.seat
        for d in Department.objects.filter(code__in=codes, area__isnull=False).annotate(
            seat=PointOnSurface("area__geom")
        )
    }
    centroids = {
        row["code"]: row["centre"]
        for row in dispatched.filter(department__code__in=codes - set(seats))
        .values(code=F("department__code"))
        .annotate(centre=Centroid(Collect("geom")))
    }
    lines = []
    for p in pairs:
        start, end = streets.get(p["street_code"]), seats.get(p["code"]) or centroids.get(p["code"])
        if start is None or end is None:
            continue
        lines.append(
            {
                "from": {"code": p["street_code"], "name": p["street_name"], "at": _xy(start)},
                "to": {"code": p["code"], "name": p["name"], "at": _xy(end)},
                "count": p["count"],
            }
        )
    return {**chosen.period.as_json(), "lines": lines}


COMPONENTS_SQL = """
SELECT c.id, c.code, c.name, k.code, k.name, c.status, ST_X(ST_PointOnSurface(c.geom)),
       ST_Y(ST_PointOnSurface(c.geom))
FROM spatial_component c
JOIN data_category k ON k.id = c.category_id
{area_join}
WHERE k.code = %(category)s AND {visible}
ORDER BY c.code
LIMIT %(limit)s
"""


def components(scope: Scope, category: str, area: AdminArea | None, limit: int) -> list[dict]:
    """Gives the components of a minor class (部件小类) the caller sees, in `area` when
    given, by code: the component panel's list, each with a point to locate it."""
    layer = Layer.objects.filter(key="components").first()
    values: dict = {"category": category, "limit": limit, "area": area.pk if area else None}
    with connection.cursor() as cursor:
        visible = "TRUE"
        if layer is not None:
            condition = scope.layer_condition(layer, sql.Identifier("c", "geom"))
            if condition.empty:
                return []
            visible, extra = condition.named("scope", cursor.connection)
            values.update(extra)
        area_join = (
            "JOIN spatial_adminarea a ON a.id = %(area)s AND ST_Intersects(a.geom, c.geom)"
            if area is not None
            else ""
        )
        cursor.execute(COMPONENTS_SQL.format(area_join=area_join, visible=visible), values)
        rows = cursor.fetchall()
    return [
        {
            "id": pk,
            "code": code,
            "name": name,
            "category": {"code": kcode, "name": kname},
            "status": status,
            "lon": round(lon, 7),
            "lat": round(lat, 7),
        }
        for pk, code, name, kcode, kname, status, lon, lat in rows
    ]


def inspectors(scope: Scope, alarms: int = 20) -> dict:
    """Gives the counts of the trackers the caller sees by status (online, busy, offline), of
    people and of vehicles, the open alarms and the latest ones."""
    live = tracking_queries.live(scope)
    counts = {"online": 0, "busy": 0, "offline": 0}
    people = {"online": 0, "busy": 0, "offline": 0}
    for feature in live["features"]:
        props = feature["properties"]
        counts[props["status"]] += 1
        if props["kind"] == "person":
            people[props["status"]] += 1
    latest = tracking_queries.alarms(scope, limit=alarms)
    open_alarms = tracking_queries.alarms(scope, open_only=True, limit=1000)
    return {
        "at": live["at"],
        "trackers": counts,
        "people": people,
        "open_alarms": len(open_alarms),
        "alarms": latest,
    }
