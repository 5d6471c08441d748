"""The city's base geography. Storage is EPSG:4326; each table also keeps a Web Mercator copy
(`geom_mercator`, a stored generated column with its own GiST index) so tiles never transform
rows at request time."""

from django.contrib.gis.db import models

from accounts.scoping import ScopedQuerySet
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex

WEB_MERCATOR = 3857


def mercator_copy(field_class, **kwargs):
    """A stored generated column holding ST_Transform(geom, 3857)."""
    return models.GeneratedField(
        expression=Transform("geom", WEB_MERCATOR),
        output_field=field_class(srid=WEB_MERCATOR, spatial_index=False, **kwargs),
        db_persist=True,
    )


def mercator_index(table: str) -> GistIndex:
    return GistIndex(fields=["geom_mercator"], name=f"{table}_merc_gist")


class AdminArea(models.Model):
    """An administrative area: district (区), street (街道) or community (社区).

    Codes follow GB/T 2260 plus the statistical division codes: 6 digits for a district,
    9 for a street (district + 3), 12 for a community (street + 3).
    """

    class Level(models.TextChoices):
        DISTRICT = "district", "区"
        STREET = "street", "街道"
        COMMUNITY = "community", "社区"

    CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}

    code = models.CharField(max_length=12, unique=True)
    source_code = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        db_index=True,
        help_text="the code the imported set gave it, where that was not a standard code",
    )
    name = models.CharField(max_length=64)
    level = models.CharField(max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    geom = models.MultiPolygonField(srid=4326)
    geom_mercator = mercator_copy(models.MultiPolygonField)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("adminarea")]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class UnitGrid(models.Model):
    """A unit grid (单元网格, 万米单元网格), about 10,000 m², bounded by roads and rivers.

    Its CJ/T 213 code is 14 digits: the community's 12-digit code + a 2-digit serial.
    """

    code = models.CharField(max_length=14, unique=True)
    source_code = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        db_index=True,
        help_text="the code the imported set gave it, where that was not a standard code",
    )
    community = models.ForeignKey(AdminArea, on_delete=models.PROTECT, related_name="unit_grids")
    area_m2 = models.FloatField(help_text="area in square metres, computed on the ellipsoid")
    geom = models.MultiPolygonField(srid=4326)
    geom_mercator = mercator_copy(models.MultiPolygonField)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("unitgrid")]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ResponsibilityGrid(models.Model):
    """A responsibility grid (责任网格): a set of unit grids one inspector answers for.

    Its geometry is the union of its unit grids; `spatial.services.refresh_responsibility_grid`
    keeps it so.
    """

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    street = models.ForeignKey(
        AdminArea, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_grids = models.ManyToManyField(UnitGrid, related_name="responsibility_grids", blank=True)
    geom = models.MultiPolygonField(srid=4326, null=True, blank=True)
    geom_mercator = mercator_copy(models.MultiPolygonField, null=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("respgrid")]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ResponsibilityGridVersion(models.Model):
    """A responsibility grid as it was (责任网格版本) from `valid_from` until `valid_to` (NULL:
    still so): its name, street, unit grid codes and shape, written by every edit through
    `spatial.responsibility`, so old cases and audits can ask for the grid on a date. A grid
    edited for the first time gets a row of how it was before (`valid_from` NULL: since ever)."""

    grid = models.ForeignKey(ResponsibilityGrid, on_delete=models.CASCADE, related_name="versions")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=64)
    street_code = models.CharField(max_length=12, blank=True)
    unit_grid_codes = ArrayField(models.CharField(max_length=14), default=list)
    geom = models.MultiPolygonField(srid=4326, null=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    change = models.CharField(max_length=16, help_text="created, edited, lost (unit grids moved)")

    class Meta:
        indexes = [models.Index(fields=["grid", "valid_from"], name="respgridver_grid_from")]
        ordering = ["grid", "valid_from"]


class TimingZone(models.Model):
    """A timing zone (计时区域): core, general or outer; deadlines differ per zone."""

    class Kind(models.TextChoices):
        CORE = "core", "核心区域"
        GENERAL = "general", "一般区域"
        OUTER = "outer", "外围区域"

    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    geom = models.MultiPolygonField(srid=4326)
    geom_mercator = mercator_copy(models.MultiPolygonField)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("timingzone")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ControlledArea(models.Model):
    """A controlled area (管控区域) where reporting some categories is forbidden or warned
    about, during a validity period and daily time windows (spec 5.2.2).

    `daily_windows` is a list of ``["HH:MM", "HH:MM"]`` pairs in local time; a window whose end
    is before its start runs past midnight. An empty list means all day. `categories` holds
    category codes (major or minor); empty means every category.
    """

    class Action(models.TextChoices):
        FORBID = "forbid", "禁止上报"
        WARN = "warn", "提醒"

    name = models.CharField(max_length=128)
    geom = models.MultiPolygonField(srid=4326)
    geom_mercator = mercator_copy(models.MultiPolygonField)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    daily_windows = models.JSONField(default=list, blank=True)
    categories = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.WARN)
    reason = models.TextField(blank=True)
    requirement = models.TextField(
        blank=True, default="", db_default="", help_text="collection requirement (采集要求)"
    )
    attachment = models.FileField(upload_to="controlled-areas/", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("ctrlarea")]

    def __str__(self) -> str:
        return self.name


class RoadSegment(models.Model):
    """A road centreline segment with its Chinese name and class."""

    class RoadClass(models.TextChoices):
        MAIN = "main", "主干道"
        SECONDARY = "secondary", "次干道"
        BRANCH = "branch", "支路"
        ALLEY = "alley", "背街小巷"

    name = models.CharField(max_length=64, db_index=True)
    road_class = models.CharField(max_length=16, choices=RoadClass.choices)
    geom = models.LineStringField(srid=4326)
    geom_mercator = mercator_copy(models.LineStringField)
    source_id = models.CharField(max_length=64, blank=True, help_text="e.g. an OSM way id")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("roadseg")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_road_class_display()})"


class Component(models.Model):
    """An urban management component (部件): a manhole cover, lamp, bin, tree, ...

    Its CJ/T 214 code is 16 digits: 6-digit county code + 2-digit major class + 2-digit minor
    class + 6-digit serial.
    """

    class Status(models.TextChoices):
        NORMAL = "normal", "完好"
        DAMAGED = "damaged", "损坏"
        MISSING = "missing", "丢失"
        REMOVED = "removed", "废弃"

    code = models.CharField(max_length=16, unique=True)
    category = models.ForeignKey("data.Category", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=64, blank=True)
    geom = models.GeometryField(srid=4326)
    geom_mercator = mercator_copy(models.GeometryField)
    owner_department = models.CharField(max_length=64, blank=True)
    maintenance_unit = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NORMAL)
    attributes = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        indexes = [mercator_index("component")]

    def __str__(self) -> str:
        return self.code

    @property
    def major_code(self) -> str:
        return self.code[6:8]

    @property
    def minor_code(self) -> str:
        return self.code[6:10]
