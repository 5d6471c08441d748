from django.apps import AppConfig


class SpatialConfig(AppConfig):
    name = "spatial"
    verbose_name = "Base geography"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .layers_core import register_core_layers

        post_migrate.connect(register_core_layers, sender=self)
