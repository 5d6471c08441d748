from django.apps import AppConfig


class TilesConfig(AppConfig):
    """Vector and raster tiles (地图切片), TileJSON and map styles."""

    name = "tiles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tiles.defaults import install_default_tiling

        post_migrate.connect(install_default_tiling, sender=self)
