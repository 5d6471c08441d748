"""Response shapes of the geocoder endpoints (for the OpenAPI document)."""

from rest_framework import serializers

from spatial.serializers import PlacementSerializer

MATCH_LEVELS = [
    "door",
    "interpolated",
    "building",
    "road",
    "place",
    "organization",
    "area",
    "grid",
    "component",
]


class TokenSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="name door building detail code qualifier landmark entrance branch prefix residue"
    )
    text = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField(), help_text="kinds a name can be")


class CandidateSerializer(serializers.Serializer):
    address = serializers.CharField(help_text="standard address string (标准地址)")
    match_level = serializers.ChoiceField(choices=MATCH_LEVELS)
    combination = serializers.IntegerField(allow_null=True, help_text="spec 5.1.6 组合编号 1–18")
    score = serializers.FloatField(help_text="0..1, for ranking")
    confidence = serializers.FloatField(
        help_text="0..1, calibrated on the evaluation set: answers at 0.8 or more were right at "
        "least 95% of the time; nothing below GEOCODER_MIN_CONFIDENCE is answered"
    )
    exact = serializers.BooleanField(
        help_text="every name read as written; false: a typo, homophone or pinyin guess (a "
        "road one character away is as close as a typo), whatever match_level says"
    )
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    qualifier = serializers.ListField(
        child=serializers.CharField(),
        help_text="附近, 对面, … and bracketed remarks: 近北京西路, b1入口, 徐汇店",
    )
    parts = serializers.DictField(help_text="district, street, community, road, number, …")
    geometry = serializers.JSONField(
        allow_null=True, help_text="GeoJSON polygon of an area or grid match (面-点), else null"
    )
    placement = PlacementSerializer(allow_null=True)


class GeocodeResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    normalized = serializers.CharField()
    tokens = TokenSerializer(many=True)
    results = CandidateSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    text = serializers.CharField()
    kind = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class SuggestResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    suggestions = SuggestionSerializer(many=True)


class ReverseResponseSerializer(serializers.Serializer):
    address = serializers.CharField(allow_null=True)
    match_level = serializers.CharField(allow_null=True)
    parts = serializers.DictField()
    lon = serializers.FloatField(allow_null=True, help_text="the address point")
    lat = serializers.FloatField(allow_null=True)
    distance_m = serializers.FloatField(allow_null=True)
    placement = PlacementSerializer()


class JobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.CharField()
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)
    report = serializers.DictField()
    result_url = serializers.CharField(allow_null=True)
