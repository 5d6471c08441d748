from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "data"
    verbose_name = "Code tables and loaders"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .code_tables import load_code_tables

        post_migrate.connect(load_code_tables, sender=self)
