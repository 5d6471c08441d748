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
    cells_ready = models.BooleanField(
        default=False, help_text="point cells (PointCell) are kept for this layer's table"
    )

    def __str__(self) -> str:
        return f"tiling of {self.layer_id}"


class PointCell(models.Model):
    """Point counts per fine grid cell (聚合格网) of a point table, kept by triggers.

    Cells are the 2^18 × 2^18 Web Mercator grid (about 150 m at the equator), indexed from the
    top-left like XYZ tiles, so every cluster cell of a tile at zoom z ≤ 14 is a block of these
    cells. `sx`/`sy` sum the members' coordinates so a cluster sits at their mean. Statement
    triggers with transition tables on the source table add and remove rows in the writing
    transaction, so the cells always agree with the table.
    """

    source = models.CharField(max_length=130, help_text="schema.table")
    ix = models.BigIntegerField()
    iy = models.BigIntegerField()
    n = models.BigIntegerField()
    sx = models.FloatField()
    sy = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ix", "iy"], name="pointcell_source_cell")
        ]
