"""Per-layer tiling options (切片配置): point clustering, aggregate bins and query filters.

The layer registry (spatial.Layer) says what a layer is; this says how its tiles are built.
Everything here is data an admin may change, never code paths.
"""

from django.contrib.gis.db import models as gis_models
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
    # Bumped in the transaction that builds or drops an area cell set of this layer's table, so
    # the tile registry's digest of this row changes and each process reloads which areas have
    # their cells kept (tiles.service.registry_rows).
    area_cells_version = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"tiling of {self.layer_id}"


class CellCounts(models.Model):
    """The counts of one cell of the 2^18 x 2^18 Web Mercator grid: `ix`/`iy` from the top-left
    like XYZ tiles, `n` rows, `sx`/`sy` the sums of their bounding-box centres."""

    ix = models.BigIntegerField()
    iy = models.BigIntegerField()
    n = models.BigIntegerField()
    sx = models.FloatField()
    sy = models.FloatField()

    class Meta:
        abstract = True


class PointCell(CellCounts):
    """Point counts per fine grid cell (聚合格网) of a point table, kept by triggers.

    Cells are the 2^18 × 2^18 Web Mercator grid (about 150 m at the equator), indexed from the
    top-left like XYZ tiles, so every cluster cell of a tile at zoom z ≤ 14 is a block of these
    cells. `sx`/`sy` sum the members' coordinates so a cluster sits at their mean. Statement
    triggers with transition tables on the source table add and remove rows in the writing
    transaction, so the cells always agree with the table.
    """

    source = models.CharField(max_length=130, help_text="schema.table")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ix", "iy"], name="pointcell_source_cell")
        ]
        indexes = [
            # The emptied cells a write leaves, found without reading the table's other cells.
            models.Index(fields=["source"], name="pointcell_emptied", condition=models.Q(n__lte=0))
        ]


class AreaCellSet(models.Model):
    """One area's point cells of one point table are kept (`AreaCell`), for the people whose
    scope is that area.

    `digest` is `accounts.Person.area_digest`: everyone whose area is the same shape shares the
    set. `area` is a copy of that shape in Web Mercator, so the cell triggers can test a written
    point against it without reading people. Sets are built and dropped by
    `tiles.cells.sync_area_cells` (beat, every minute) as people's areas come and go; a scoped
    tile whose set is not built yet recounts the cells across the area's border instead, with the
    same answer.
    """

    digest = models.CharField(max_length=32)
    source = models.CharField(max_length=130, help_text="schema.table")
    area = gis_models.GeometryField(srid=3857)
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "source"], name="areacellset_digest_source")
        ]

    def __str__(self) -> str:
        return f"cells of {self.source} in area {self.digest}"


class AreaCell(CellCounts):
    """A point cell (`PointCell`) counting only the rows in one area (辖区格网): what a person
    scoped to that area sees of the cell.

    The rows are those the scope condition keeps (accounts.scoping: sharing a point with the
    area, a line or polygon only touching its border left out), each in the cell of its
    bounding box's centre as in `PointCell`, so a road centred outside the area that crosses
    it counts in a cell outside it. Kept by the same statement triggers as the point cells, in
    the writing transaction, so a street inspector's cluster tile reads one index range as an
    admin's does instead of recounting every cell across the street's border.
    """

    # No index of its own: the unique (cellset, ix, iy) serves it.
    cellset = models.ForeignKey(
        AreaCellSet, on_delete=models.CASCADE, related_name="cells", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cellset", "ix", "iy"], name="areacell_set_cell")
        ]
        indexes = [
            # The emptied cells a write leaves, found without reading the set's other cells.
            models.Index(fields=["cellset"], name="areacell_emptied", condition=models.Q(n__lte=0))
        ]
