"""Live positions as a vector tile layer (实时位置图层): the rows, scoped, for the tile builder.

Tracking may not import the tile server (the import contracts), so this module gives only the
derived table of the latest positions the caller sees, with their status, in the shape the one
tile SQL builder (`tiles.sql`) reads: a ``geom_mercator`` column and the tile's columns. The
route `/tiles/tracking/{z}/{x}/{y}.mvt` (`web/live_tiles.py`, in the project shell, which may
import both) puts the two together. The table's condition is `queries.visible_condition`, the
same as `GET /api/v1/tracking/live`, so a tile holds exactly the trackers the live list gives
the caller; like case tiles, these change every few seconds and differ per caller, so they are
never kept in the shared tile cache.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from psycopg2 import sql

from accounts.scoping import Scope
from core import workload
from core.sqlparts import Part, bind

from .queries import TRACKERS_FROM, visible_condition

LAYER_NAME = "tracking"
# (name, PostgreSQL type) of a position's properties; the tracker id is the feature id.
COLUMNS = [
    ("tracker", "bigint"),
    ("device", "text"),
    ("kind", "text"),
    ("name", "text"),
    ("status", "text"),
    ("alarm", "boolean"),
    ("fixed_at", "text"),
]

LIVE_TABLE_SQL = (
    """(SELECT tr.id, tr.id AS tracker, tr.device_id AS device, tr.kind,
        COALESCE(NULLIF(tr.name, ''), pp.name, NULLIF(tr.plate, ''), tr.device_id) AS name,
        CASE WHEN lp.t < {online_after} THEN 'offline'
             WHEN {open_work} > 0 THEN 'busy' ELSE 'online' END AS status,
        EXISTS (SELECT 1 FROM tracking_alarm a
                WHERE a.tracker_id = tr.id AND a.ended_at IS NULL) AS alarm,
        to_char(lp.t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS fixed_at,
        ST_Transform(lp.geom, 3857) AS geom_mercator
"""
    + TRACKERS_FROM
    + """
WHERE tr.active AND lp.tracker_id IS NOT NULL AND {visible}) AS live"""
)


def live_table(scope: Scope, now: dt.datetime | None = None) -> Part:
    """Gives the derived table of the latest positions the caller sees, with the `COLUMNS`,
    ``id`` and ``geom_mercator``; status as `tracking.queries.status`."""
    now = now or timezone.now()
    return bind(
        LIVE_TABLE_SQL,
        online_after=now - dt.timedelta(seconds=settings.TRACKING_ONLINE_S),
        open_work=workload.open_work_count(sql.SQL("pp.user_id")),
        visible=visible_condition(scope),
    )
