"""The road graph (路网): the city's road segments noded at their crossings, for road distances."""

from __future__ import annotations

from django.contrib.gis.db import models


class RoadEdge(models.Model):
    """One edge of the road graph: a piece of a road centreline between two crossings or ends
    (`source`, `target` vertex numbers), `cost` its length in metres both ways. Derived from
    `RoadSegment` by `spatial.routing.rebuild_graph`; never edited."""

    source = models.BigIntegerField(db_index=True)
    target = models.BigIntegerField(db_index=True)
    cost = models.FloatField(help_text="metres")
    reverse_cost = models.FloatField(help_text="metres (roads are two-way)")
    geom = models.LineStringField(srid=4326)

    class Meta:
        db_table = "spatial_roadedge"
