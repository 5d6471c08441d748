"""The address database (地理编码数据库): place names, roads, door addresses, compounds and
buildings, organizations and storefronts. Admin areas, unit grids and components are read
from `spatial`. Three address models sit on top (see `geocoder/README.md`): area-point
(面-点), line-point (线-点) and mesh (网状)."""

from django.contrib.gis.db import models
from django.conf import settings
from django.contrib.postgres.fields import ArrayField


class AddressSource(models.Model):
    """A named, versioned source of addresses (地址数据源) a GIS admin loads: door addresses,
    roads, compounds, POIs or an OSM extract. Its rows in the address tables carry its id and
    the version that wrote them; loading it again replaces them in one transaction."""

    class Kind(models.TextChoices):
        DOORS = "doors", "门址"
        ROADS = "roads", "道路"
        COMPOUNDS = "compounds", "小区院落"
        POIS = "pois", "兴趣点"
        OSM = "osm", "OpenStreetMap"

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="rows loaded per table")
    loaded = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="features that are no address")
    refusals = models.JSONField(default=list, blank=True, help_text="a sample: row, reason")
    loaded_at = models.DateTimeField(null=True, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_by_name = models.CharField(max_length=150, blank=True, help_text="the actor's name")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Sourced(models.Model):
    """What every address row carries: the source and version that wrote it (none for rows the
    demo generator writes) and its placement (落点) when it was loaded: the most specific admin
    area code (district 6, street 9, community 12 digits, so each holds its parents) and the
    unit grid code. Database defaults, so COPY writers that name their columns still work."""

    source = models.ForeignKey(
        AddressSource, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source_version = models.PositiveIntegerField(null=True, blank=True)
    area_code = models.CharField(max_length=12, blank=True, default="", db_default="")
    grid_code = models.CharField(max_length=14, blank=True, default="", db_default="")

    class Meta:
        abstract = True


class Road(Sourced):
    """A named road (道路) as one oriented centreline, the axis of the line-point model.

    Door numbers grow along the line's direction; `odd_side` says which side carries the odd
    numbers (looking along the line).
    """

    class Kind(models.TextChoices):
        MAIN = "main", "主要道路"
        STREET = "street", "现状道路"
        ALLEY = "alley", "胡同"
        BLOCK_1 = "block1", "一级街坊"
        BLOCK_2 = "block2", "二级街坊"

    class Side(models.TextChoices):
        LEFT = "left", "左侧"
        RIGHT = "right", "右侧"

    # Not unique: two roads of one name in different places are two roads (中山路 in two
    # districts); the gazetteer keeps every entry of a name and the matcher ranks them.
    name = models.CharField(max_length=64, db_index=True)
    aliases = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STREET)
    odd_side = models.CharField(max_length=8, choices=Side.choices, default=Side.LEFT)
    street = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    geom = models.LineStringField(srid=4326)

    def __str__(self) -> str:
        return self.name


class DoorAddress(Sourced):
    """A door address (门址): road + number, on one side of the road, maybe a courtyard (院落)."""

    road = models.ForeignKey(Road, on_delete=models.CASCADE, related_name="doors")
    number = models.PositiveIntegerField()
    suffix = models.CharField(max_length=16, blank=True, help_text="e.g. 甲, 之1")
    side = models.CharField(max_length=8, choices=Road.Side.choices)
    measure = models.FloatField(help_text="fraction (0..1) along the road where the door sits")
    courtyard = models.CharField(max_length=64, blank=True, help_text="院落名称")
    geom = models.PointField(srid=4326)

    class Meta(Sourced.Meta):
        indexes = [models.Index(fields=["road", "number"])]

    def __str__(self) -> str:
        return f"{self.road.name}{self.number}{self.suffix}号"


class PlaceName(Sourced):
    """A place name (地名): current name with historical names and aliases; landmarks
    (突出建筑) are place names of kind `landmark`."""

    class Kind(models.TextChoices):
        PLACE = "place", "地名"
        LANDMARK = "landmark", "突出建筑"
        POI = "poi", "兴趣点"

    name = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PLACE)
    aliases = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    historical_names = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    door = models.ForeignKey(
        DoorAddress, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    geom = models.PointField(srid=4326)
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Compound(Sourced):
    """A residential compound (小区) or courtyard, with its buildings."""

    name = models.CharField(max_length=64, db_index=True)
    aliases = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    door = models.ForeignKey(
        DoorAddress, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    community = models.ForeignKey(
        "spatial.AdminArea", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    geom = models.MultiPolygonField(srid=4326)
    entrance = models.PointField(srid=4326)

    def __str__(self) -> str:
        return self.name


class Organization(Sourced):
    """An organization (企事业单位) or a storefront (沿街店面) at a door address."""

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", "企事业单位"
        STOREFRONT = "storefront", "沿街店面"

    name = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    aliases = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    door = models.ForeignKey(
        DoorAddress, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    road = models.ForeignKey(
        Road, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    geom = models.PointField(srid=4326)
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Building(Sourced):
    """A building (楼座) of a compound or an organization: `number` is what people say,
    e.g. 3 for 3号楼 / 3栋 / 3幢 / 3座."""

    number = models.CharField(max_length=16)
    name = models.CharField(max_length=64, blank=True)
    compound = models.ForeignKey(
        Compound, null=True, blank=True, on_delete=models.CASCADE, related_name="buildings"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="buildings"
    )
    geom = models.PointField(srid=4326)
    footprint = models.PolygonField(srid=4326, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.number}号楼"


class AddressVersion(models.Model):
    """One row whose `version` grows on every write to the address tables, so in-memory
    indexes (the gazetteer, the suggest prefix index) know when to rebuild."""

    version = models.BigIntegerField(default=0)
