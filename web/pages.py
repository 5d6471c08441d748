"""Server-rendered pages: the web map (/map, 地图) drawn with MapLibre GL JS from our tiles, the
dispatcher console (/console, 指挥调度台) and the inspector monitor (/inspectors, 监督员监控)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.access import public
from web.middleware import CONTENT_SECURITY_POLICY


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


@login_required
@require_safe
def console_page(request: HttpRequest) -> HttpResponse:
    """Gives the dispatcher console (指挥调度台): the signed-in position's case boxes, the case
    list and detail with every action the position may take, the map beside them, and live
    arrivals over the stream server."""
    from django.middleware.csrf import get_token

    from accounts.scoping import scope_for
    from core.streams import stream_origin
    from spatial.models import MapConfig

    scope = scope_for(request)
    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    stream = stream_origin(request)
    context = {
        "console_config": {
            "user": request.user.get_username(),
            "name": (person.name if person else "") or request.user.get_username(),
            "positions": list(scope.position_names),
            "permissions": sorted(scope.permissions),
            "csrfToken": get_token(request),
            "streamUrl": f"{stream}/api/v1/cases/stream",
            "styleUrl": "/styles/base.json?variant=light",
            "center": centre,
            "zoom": (config.zoom if config else 12) + 1,
        }
    }
    response = render(request, "console.html", context)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", f"connect-src 'self' {stream}"
    )
    return response


@login_required
@require_safe
def inspectors_page(request: HttpRequest) -> HttpResponse:
    """Gives the inspector monitor (监督员监控): live positions by status over the
    responsibility grids, the alarm list live over the stream server with acknowledgement, a
    follow list, a card per inspector and track playback. For holders of ``tracking.monitor``
    and system admins; others get a 403 page."""
    from django.middleware.csrf import get_token

    from accounts import permissions as perms
    from accounts.scoping import scope_for
    from core.streams import stream_origin
    from spatial.models import MapConfig

    scope = scope_for(request)
    if not (scope.sees_everything or scope.has_perm(perms.TRACKING_MONITOR)):
        return render(
            request,
            "forbidden.html",
            {"title": "监督员监控", "message": "需要“监督员监控”权限才能打开此页面。"},
            status=403,
        )
    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    stream = stream_origin(request)
    context = {
        "monitor_config": {
            "user": request.user.get_username(),
            "name": (person.name if person else "") or request.user.get_username(),
            "positions": list(scope.position_names),
            "canAcknowledge": scope.sees_everything or scope.has_perm(perms.TRACKING_ACKNOWLEDGE),
            "csrfToken": get_token(request),
            "streamUrl": f"{stream}/api/v1/tracking/stream",
            "styleUrl": "/styles/base.json?variant=light",
            "center": centre,
            "zoom": (config.zoom if config else 12) + 1,
            "onlineSeconds": settings.TRACKING_ONLINE_S,
        }
    }
    response = render(request, "inspectors.html", context)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", f"connect-src 'self' {stream}"
    )
    return response
