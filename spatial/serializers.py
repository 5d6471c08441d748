"""Response shapes of the spatial endpoints, for the OpenAPI document and for rendering."""

from rest_framework import serializers


class AreaRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TimingZoneRefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["core", "general", "outer"])
    name = serializers.CharField()


class ControlledAreaHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=["forbid", "warn"])
    categories = serializers.ListField(
        child=serializers.CharField(), help_text="category codes; empty means every category"
    )
    reason = serializers.CharField(allow_blank=True)
    requirement = serializers.CharField(
        allow_blank=True, help_text="collection requirement (采集要求)"
    )
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_to = serializers.DateTimeField(allow_null=True)
    daily_windows = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text='["HH:MM", "HH:MM"] pairs in local time; end before start runs past midnight',
    )


class RoadRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    road_class = serializers.ChoiceField(choices=["main", "secondary", "branch", "alley"])
    distance_m = serializers.FloatField()


class PlacementSerializer(serializers.Serializer):
    """Everything a point belongs to; fields are null (or empty) outside the city, and for
    parts of layers the caller may not see at the point: anonymous callers see public layers
    only (by default not responsibility_grid, timing_zone, controlled_areas); a person sees a
    non-public layer their positions grant where their area holds the point."""

    at = serializers.DateTimeField(help_text="the time controlled areas were evaluated at")
    district = AreaRefSerializer(allow_null=True)
    street = AreaRefSerializer(allow_null=True)
    community = AreaRefSerializer(allow_null=True)
    unit_grid = serializers.CharField(allow_null=True, help_text="14-digit CJ/T 213 code")
    responsibility_grid = AreaRefSerializer(
        allow_null=True, help_text="null also when the caller may not see it here (not public)"
    )
    timing_zone = TimingZoneRefSerializer(
        allow_null=True, help_text="null also when the caller may not see it here (not public)"
    )
    controlled_areas = ControlledAreaHitSerializer(
        many=True, help_text="empty also when the caller may not see them here (not public)"
    )
    road = RoadRefSerializer(allow_null=True, help_text="nearest road segment within 50 m")


class InputPointSerializer(serializers.Serializer):
    x = serializers.FloatField(help_text="lon, or easting for a projected crs")
    y = serializers.FloatField(help_text="lat, or northing for a projected crs")
    crs = serializers.CharField(help_text="canonical spelling of the crs used")


class LonLatSerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class LocateResponseSerializer(serializers.Serializer):
    input = InputPointSerializer()
    wgs84 = LonLatSerializer(help_text="the EPSG:4326 point that was placed")
    placement = PlacementSerializer()


class DatabaseHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    postgresql = serializers.CharField(required=False)
    postgis = serializers.CharField(required=False, allow_null=True)
    geos = serializers.CharField(required=False, allow_null=True)
    proj = serializers.CharField(required=False, allow_null=True)
    ms = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class RedisHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    ms = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)


class CeleryHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="at least one worker answered the ping")
    workers = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(required=False)


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "degraded", "failed"],
        help_text="degraded: database up but Redis or Celery missing; failed: database down",
    )
    database = DatabaseHealthSerializer()
    redis = RedisHealthSerializer()
    celery = CeleryHealthSerializer()


class CensusAreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=["district", "street", "community"])


class GridCensusSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean_area_m2 = serializers.FloatField(allow_null=True)


class ClassCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    density_per_km2 = serializers.FloatField(allow_null=True)
    major_code = serializers.CharField(required=False, help_text="minor classes only")


class ComponentCensusSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    density_per_km2 = serializers.FloatField(allow_null=True)
    by_major = ClassCountSerializer(many=True)
    by_minor = ClassCountSerializer(many=True)


class CensusSerializer(serializers.Serializer):
    """Census results (普查成果) of the city or of one admin area."""

    area = CensusAreaSerializer(allow_null=True, help_text="null for the whole city")
    area_km2 = serializers.FloatField()
    bbox = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        allow_null=True,
        help_text="[minx, miny, maxx, maxy] in EPSG:4326",
    )
    unit_grids = GridCensusSerializer(
        allow_null=True, help_text="null when the caller may not read the unit_grids layer"
    )
    responsibility_grids = GridCensusSerializer(
        allow_null=True,
        help_text="null when the caller may not read the responsibility_grids layer (anonymous"
        " callers, unless it is public); a person counts only the grids in their areas",
    )
    components = ComponentCensusSerializer(
        allow_null=True,
        help_text="null when the caller may not read the components layer (anonymous callers,"
        " unless it is public); a person counts only the components in their areas",
    )
