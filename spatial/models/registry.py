"""The layer registry (图层管理), themes (专题) and map configuration (地图配置), spec 5.1.7."""

from django.contrib.gis.db import models


class Layer(models.Model):
    """A published layer: a core geography table or a managed table in the `layers` schema.

    Tiles, OGC API Features, identify and exports all read layers through this registry.
    `version` is bumped by a statement trigger on the layer's table on every write, so caches
    keyed by it never serve a stale tile.
    """

    class Kind(models.TextChoices):
        CORE = "core", "核心图层"
        MANAGED = "managed", "管理图层"
        RASTER = "raster", "影像图层"

    class Purpose(models.TextChoices):
        NONE = "", "无"
        STREET = "street", "街道图层"
        COMMUNITY = "community", "社区图层"
        UNIT_GRID = "unit_grid", "单元网格图层"
        ROAD_SURFACE = "road_surface", "道路面图层"
        COUNTY = "county", "区县边界图层"
        CITY = "city", "市图层"
        PROVINCE = "province", "省图层"
        COMPONENT = "component", "部件图层"
        ROAD = "road", "道路图层"
        POI = "poi", "兴趣点图层"
        BUILDING = "building", "建筑图层"
        IMAGERY = "imagery", "影像图层"

    key = models.SlugField(max_length=63, unique=True, help_text="URL name: /tiles/{key}/...")
    title = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    schema_name = models.CharField(max_length=63, default="public")
    table_name = models.CharField(max_length=63, blank=True)
    geometry_column = models.CharField(max_length=63, default="geom")
    id_column = models.CharField(max_length=63, default="id")
    geometry_type = models.CharField(max_length=32, blank=True)
    # [{"name": ..., "type": "string|integer|number|boolean|datetime|json", "alias": ...,
    #   "visible": true}]; visible fields go into tiles and identify.
    fields = models.JSONField(default=list, blank=True)
    filter_sql = models.TextField(
        blank=True, help_text="fixed SQL condition on the table (admin-defined, never user input)"
    )
    datetime_column = models.CharField(max_length=63, blank=True)
    purpose = models.CharField(max_length=32, choices=Purpose.choices, blank=True)
    group = models.CharField(max_length=64, blank=True)
    min_zoom = models.PositiveSmallIntegerField(default=0)
    max_zoom = models.PositiveSmallIntegerField(default=22)
    public = models.BooleanField(default=False)
    style = models.JSONField(default=dict, blank=True)
    extent = models.JSONField(null=True, blank=True, help_text="[minx, miny, maxx, maxy] EPSG:4326")
    feature_count = models.BigIntegerField(default=0)
    raster_path = models.CharField(max_length=512, blank=True)
    version = models.BigIntegerField(default=1)
    sort_order = models.IntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "key"]

    def __str__(self) -> str:
        return self.key


class Theme(models.Model):
    """A theme (专题): a named, ordered set of layers with their visibility."""

    key = models.SlugField(max_length=63, unique=True)
    title = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    layers = models.ManyToManyField(Layer, through="ThemeLayer", related_name="themes")

    def __str__(self) -> str:
        return self.key


class ThemeLayer(models.Model):
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="entries")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="+")
    order = models.IntegerField(default=0)
    visible = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["theme", "layer"], name="theme_layer_once")]


class MapConfig(models.Model):
    """The map configuration the web map reads: extent, initial view, CRS, resolutions."""

    name = models.SlugField(max_length=63, unique=True, default="default")
    title = models.CharField(max_length=128, default="")
    extent = models.JSONField(default=list, help_text="[minx, miny, maxx, maxy] EPSG:4326")
    center = models.JSONField(default=list, help_text="[lon, lat]")
    zoom = models.FloatField(default=12)
    min_zoom = models.FloatField(default=8)
    max_zoom = models.FloatField(default=20)
    crs = models.CharField(max_length=32, default="EPSG:3857")
    tile_size = models.PositiveIntegerField(default=512)
    resolutions = models.JSONField(default=list, blank=True)
    default_theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
