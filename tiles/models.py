"""Per-layer tiling options (切片配置): point clustering, aggregate bins and query filters.

The layer registry (spatial.Layer) says what a layer is; this says how its tiles are built.
Everything here is data an admin may change, never code paths.
"""

from django.db import models


class LayerTiling(models.Model):
    """How one layer's tiles are built beyond the defaults.

    `points` marks a point layer: below `cluster_below_zoom` its tile holds grid clusters with a
    `point_count` instead of single features, and two derived layers exist, `{key}_hex` and
    `{key}_bins` (hexagon and square bins with a `count`) for heat maps.

    `filters` declares the query parameters a tile request may carry, e.g.
    ``{"name": "status", "column": "status", "type": "string"}`` (a comma list of values),
    ``{"name": "major", "column": "code", "type": "string", "substr": [7, 2]}`` or
    ``{"name": "since", "column": "created_at", "type": "datetime", "op": ">="}``.
    Types: string, integer, datetime; ops: "in" (default), ">=", "<=". Values are always bound
    as parameters; columns are quoted identifiers.
    """

    layer = models.OneToOneField("spatial.Layer", on_delete=models.CASCADE, related_name="tiling")
    points = models.BooleanField(default=False)
    cluster_below_zoom = models.PositiveSmallIntegerField(
        default=15, help_text="point layers: tiles below this zoom hold clusters"
    )
    cluster_cell_px = models.PositiveSmallIntegerField(
        default=48, help_text="cluster grid cell, in pixels of a 512-pixel tile"
    )
    bin_cell_px = models.PositiveSmallIntegerField(
        default=32, help_text="hexagon/square bin size, in pixels of a 512-pixel tile"
    )
    filters = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"tiling of {self.layer_id}"
