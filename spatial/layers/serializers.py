"""Request and response shapes of the layer endpoints (for validation and the OpenAPI document)."""

from rest_framework import serializers

from core.serializers import JsonTypes
from spatial.models import Layer

from .core_targets import TARGETS
from .geometry import INVALID_MODES, MIXED_MODES
from .importer import EXTENT_CHECKS
from .mapconfig import INT32, THEME_KEY_MAX, THEME_KEY_RE
from .readers import FORMATS


class LayerFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(required=False)
    alias = serializers.CharField(required=False)
    visible = serializers.BooleanField(required=False)


class LayerSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Layer.Kind.choices)
    geometry_type = serializers.CharField(allow_blank=True)
    fields = LayerFieldSerializer(many=True)
    purpose = serializers.CharField(allow_blank=True)
    purpose_label = serializers.CharField(allow_blank=True)
    group = serializers.CharField(allow_blank=True)
    min_zoom = serializers.IntegerField()
    max_zoom = serializers.IntegerField()
    public = serializers.BooleanField()
    style = serializers.DictField()
    extent = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    feature_count = serializers.IntegerField()
    datetime_column = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    sort_order = serializers.IntegerField()
    updated_at = serializers.CharField(allow_null=True)


class LayerListSerializer(serializers.Serializer):
    layers = LayerSerializer(many=True)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: ``"yes"`` or ``1`` are refused, not read as true."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class LayerFieldEditSerializer(JsonTypes, serializers.Serializer):
    name = serializers.CharField(max_length=63)
    alias = serializers.CharField(required=False, allow_blank=True, max_length=128)
    visible = StrictBooleanField(required=False)


HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class StyleCategorySerializer(JsonTypes, serializers.Serializer):
    value = serializers.CharField(max_length=128, allow_blank=True)
    color = serializers.RegexField(HEX_COLOUR)


class LayerStyleSerializer(JsonTypes, serializers.Serializer):
    """A layer's style settings (样式), turned into MapLibre style layers by `tiles.styles`:
    colour (one, or per variant), line width in pixels, fill or circle opacity, the field its
    labels show, and colours by the value of one field (`by_field` + `categories`; other
    values keep `color`)."""

    color = serializers.RegexField(HEX_COLOUR, required=False)
    color_light = serializers.RegexField(HEX_COLOUR, required=False)
    color_dark = serializers.RegexField(HEX_COLOUR, required=False)
    width = serializers.FloatField(required=False, min_value=0, max_value=20)
    opacity = serializers.FloatField(required=False, min_value=0, max_value=1)
    label_field = serializers.CharField(required=False, allow_blank=True, max_length=63)
    by_field = serializers.CharField(required=False, allow_blank=True, max_length=63)
    categories = StyleCategorySerializer(many=True, required=False, max_length=64)
    attribution = serializers.CharField(required=False, allow_blank=True, max_length=32)

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                f"unknown style setting {unknown[0]!r}; settings: {', '.join(self.fields)}"
            )
        return super().to_internal_value(data)

    def validate(self, attrs):
        values = [c["value"] for c in attrs.get("categories", [])]
        if len(set(values)) < len(values):
            raise serializers.ValidationError("each category value appears once")
        if values and not attrs.get("by_field"):
            raise serializers.ValidationError("categories need by_field, the field they colour by")
        return attrs


class LayerPatchSerializer(JsonTypes, serializers.Serializer):
    """A layer's presentation edits; every caller of `registry.edit_layer` is validated by it."""

    title = serializers.CharField(required=False, max_length=256)
    description = serializers.CharField(required=False, allow_blank=True)
    group = serializers.CharField(required=False, allow_blank=True, max_length=64)
    purpose = serializers.ChoiceField(
        choices=Layer.Purpose.choices, required=False, allow_blank=True
    )
    min_zoom = serializers.IntegerField(required=False, min_value=0, max_value=24)
    max_zoom = serializers.IntegerField(required=False, min_value=0, max_value=24)
    public = StrictBooleanField(required=False)
    style = LayerStyleSerializer(required=False)
    sort_order = serializers.IntegerField(required=False, min_value=-32768, max_value=32767)
    datetime_column = serializers.CharField(required=False, allow_blank=True, max_length=63)
    fields = LayerFieldEditSerializer(many=True, required=False)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            editable = ", ".join(self.fields)
            raise serializers.ValidationError(
                {unknown[0]: f"cannot edit {', '.join(unknown)}; editable: {editable}"}
            )
        return attrs


class LayerImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="zipped Shapefile, GeoJSON, GeoPackage, KML, CSV, OSM")
    target = serializers.ChoiceField(
        choices=["managed", *TARGETS],
        required=False,
        default="managed",
        help_text="managed layer (default) or a core geography table (--as)",
    )
    key = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    crs = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=(
            "source CRS when the file has none or a wrong one: EPSG:4548, gcj02, bd09, ...; "
            "auto keeps the file's CRS but converts from GCJ-02 or BD-09 when the data fits the "
            "city's own geography clearly better so (see the report's offset_check)"
        ),
    )
    map = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="field mapping for core targets: code=BGID,name=MC",
    )
    layer = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="GeoPackage/KML layer, or roads|pois|buildings (OSM)",
    )
    format = serializers.ChoiceField(choices=FORMATS, required=False)
    x = serializers.CharField(required=False, allow_blank=True, help_text="CSV longitude column")
    y = serializers.CharField(required=False, allow_blank=True, help_text="CSV latitude column")
    wkt = serializers.CharField(required=False, allow_blank=True, help_text="CSV WKT column")
    public = serializers.BooleanField(required=False, default=False)
    invalid = serializers.ChoiceField(choices=INVALID_MODES, required=False, default="repair")
    mixed = serializers.ChoiceField(choices=MIXED_MODES, required=False, default="refuse")
    extent_check = serializers.ChoiceField(choices=EXTENT_CHECKS, required=False, default="city")
    purpose = serializers.ChoiceField(choices=Layer.Purpose.choices, required=False)
    group = serializers.CharField(required=False, allow_blank=True)
    level = serializers.ChoiceField(
        choices=["district", "street", "community"],
        required=False,
        help_text="admin_areas: the level of every row whose code is not a standard one",
    )
    create_parents = serializers.BooleanField(
        required=False,
        default=False,
        help_text="admin_areas: create the district of streets that lie in none",
    )
    district_code = serializers.CharField(
        required=False, allow_blank=True, help_text="6-digit code of the district to create"
    )
    district_name = serializers.CharField(required=False, allow_blank=True)


class JobProgressSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=["pending", "running", "succeeded", "failed"])
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)
    progress = serializers.FloatField(allow_null=True)
    errors = serializers.ListField(child=serializers.DictField())
    report = serializers.DictField()
    file_name = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)


class ImportAcceptedSerializer(serializers.Serializer):
    job = JobProgressSerializer()
    url = serializers.CharField(help_text="where to poll the job")


class IdentifyFeatureSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    geometry = serializers.DictField(allow_null=True)
    properties = serializers.DictField()
    layer = serializers.CharField()
    layer_title = serializers.CharField()
    distance_m = serializers.FloatField()
    aliases = serializers.DictField()


class IdentifySerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    tolerance_m = serializers.FloatField()
    features = IdentifyFeatureSerializer(many=True)


class MapConfigSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(required=False, allow_blank=True)
    extent = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        min_length=4,
        max_length=4,
        help_text="[minlon, minlat, maxlon, maxlat] within -180..180 / -90..90, min < max",
    )
    center = serializers.ListField(
        child=serializers.FloatField(), required=False, min_length=2, max_length=2
    )
    zoom = serializers.FloatField(
        required=False, min_value=0, max_value=24, help_text="within min_zoom..max_zoom"
    )
    min_zoom = serializers.FloatField(required=False, min_value=0, max_value=24)
    max_zoom = serializers.FloatField(required=False, min_value=0, max_value=24)
    crs = serializers.ChoiceField(choices=["EPSG:3857", "EPSG:4326", "EPSG:4490"], required=False)
    tile_size = serializers.ChoiceField(choices=[256, 512], required=False)
    resolutions = serializers.ListField(child=serializers.FloatField(), required=False)
    default_theme = serializers.CharField(required=False, allow_null=True)
    purposes = serializers.DictField(read_only=True)
    updated_at = serializers.CharField(read_only=True, allow_null=True)


class ThemeLayerSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="an existing layer's key (409 when there is none)")
    title = serializers.CharField(read_only=True)
    order = serializers.IntegerField(required=False, min_value=INT32[0], max_value=INT32[1])
    visible = serializers.BooleanField(required=False)


class ThemeEditSerializer(serializers.Serializer):
    """A theme's edits (its key stays)."""

    title = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    layers = ThemeLayerSerializer(many=True, required=False)


class ThemeSerializer(ThemeEditSerializer):
    key = serializers.RegexField(THEME_KEY_RE.pattern, max_length=THEME_KEY_MAX)


class ThemeListSerializer(serializers.Serializer):
    themes = ThemeSerializer(many=True)


class RefreshSerializer(serializers.Serializer):
    layers = LayerSerializer(many=True)
