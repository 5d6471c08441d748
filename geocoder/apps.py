from django.apps import AppConfig


class GeocoderConfig(AppConfig):
    name = "geocoder"
