"""Server-rendered pages: the web map (/map, 地图) drawn with MapLibre GL JS from our tiles."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.access import public


@public
@require_safe
def map_page(request: HttpRequest) -> HttpResponse:
    """Gives the map page: every layer the caller may read, themes, identify on click.

    The page itself is public; the style it loads holds only the caller's readable layers.
    """
    from spatial.models import MapConfig, Theme

    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    themes = [{"key": "base", "title": "基础底图"}] + [
        {"key": t.key, "title": t.title} for t in Theme.objects.exclude(key="base").order_by("key")
    ]
    default_theme = config.default_theme.key if config and config.default_theme else "base"
    context = {
        "map_config": {
            "center": centre,
            "zoom": config.zoom if config else 12,
            "minZoom": config.min_zoom if config else 3,
            "maxZoom": config.max_zoom if config else 20,
            "theme": request.GET.get("theme", default_theme),
            "variant": "dark" if request.GET.get("variant") == "dark" else "light",
            "themes": themes,
            "styleUrl": "/styles/{theme}.json?variant={variant}",
            "identifyUrl": "/api/v1/identify",
        }
    }
    return render(request, "map.html", context)
