"""Server-rendered pages: the web map (/map, 地图) drawn with MapLibre GL JS from our tiles, the
dispatcher console (/console, 指挥调度台), the inspector monitor (/inspectors, 监督员监控), the
comprehensive evaluation page (/evaluation, 综合评价) with the evaluators' app (/evaluation/app,
评价员App), the inspectors' field app (/m/, 城管通), the wall screen (/screen, 运行监督大屏) and
process supervision (/supervision, 流程监督)."""

from __future__ import annotations

from pathlib import Path

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


@login_required
@require_safe
def evaluation_page(request: HttpRequest) -> HttpResponse:
    """Gives the comprehensive evaluation page (综合评价): rankings per cycle with filters, an
    object's scores per indicator, the sample library on the map and a sampling preview. For
    holders of ``evaluation.manage`` or ``evaluation.score``; others get a 403 page."""
    from django.middleware.csrf import get_token

    from accounts.scoping import scope_for
    from core.errors import ApiError
    from evaluation.comprehensive.config import require_reader
    from spatial.models import MapConfig

    scope = scope_for(request)
    try:
        require_reader(scope)
    except ApiError:
        return render(
            request,
            "forbidden.html",
            {"title": "综合评价", "message": "需要“绩效评价配置”或“评价打分”权限才能打开此页面。"},
            status=403,
        )
    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    context = {
        "evaluation_config": {
            "name": (person.name if person else "") or request.user.get_username(),
            "csrfToken": get_token(request),
            "styleUrl": "/styles/base.json?variant=light",
            "center": centre,
            "zoom": config.zoom if config else 12,
        }
    }
    return render(request, "evaluation.html", context)


@login_required
@require_safe
def evaluator_app_page(request: HttpRequest) -> HttpResponse:
    """Gives the evaluator's app (评价员App, spec 4.2): where the phone is (the evaluation
    object), the open and finished inspection tasks, and a task's check items scored with
    photos, saved as drafts and submitted. For active evaluators; others get a 403 page."""
    from django.middleware.csrf import get_token

    from accounts.scoping import scope_for
    from core.errors import ApiError
    from evaluation.comprehensive.inspections import evaluator_of

    try:
        evaluator = evaluator_of(scope_for(request))
    except ApiError:
        return render(
            request,
            "forbidden.html",
            {"title": "实地考察", "message": "只有在岗的评价员才能打开实地考察。"},
            status=403,
        )
    person = evaluator.person
    context = {
        "app_config": {
            "name": person.name or request.user.get_username(),
            "unit": evaluator.unit,
            "csrfToken": get_token(request),
        }
    }
    return render(request, "evaluator_app.html", context)


def _screen_config(request: HttpRequest, scope) -> dict:
    """The settings the wall screen and the supervision page share."""
    from django.middleware.csrf import get_token

    from accounts import permissions as perms
    from core.streams import stream_origin
    from spatial.models import MapConfig

    from spatial.models import AdminArea

    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    if person is not None and person.area_geom is not None and not scope.sees_everything:
        bounds = list(person.area_geom.extent)
    else:  # the whole city: the top-level areas
        from django.contrib.gis.db.models import Extent

        bounds = AdminArea.objects.filter(parent__isnull=True).aggregate(b=Extent("geom"))["b"]
    return {
        "bounds": list(bounds) if bounds else None,
        "user": request.user.get_username(),
        "name": (person.name if person else "") or request.user.get_username(),
        "positions": list(scope.position_names),
        "permissions": sorted(scope.permissions),
        "monitor": scope.sees_everything or scope.has_perm(perms.TRACKING_MONITOR),
        "csrfToken": get_token(request),
        "streamUrl": f"{stream_origin(request)}/api/v1/cases/stream",
        "styleUrl": "/styles/base.json?variant={variant}",
        "center": centre,
        "zoom": config.zoom if config else 12,
    }


def _case_reader_page(request: HttpRequest, template: str, title: str, key: str):
    """Renders a page for those who read cases (others get the 403 page), with the stream
    server allowed in its connect-src."""
    from accounts import permissions as perms
    from accounts.scoping import scope_for
    from core.streams import stream_origin

    scope = scope_for(request)
    if not (scope.sees_everything or scope.has_perm(perms.CASES_READ)):
        return render(
            request,
            "forbidden.html",
            {"title": title, "message": "需要“查看案件”权限才能打开此页面。"},
            status=403,
        )
    response = render(request, template, {key: _screen_config(request, scope)})
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", f"connect-src 'self' {stream_origin(request)}"
    )
    return response


@login_required
@require_safe
def screen_page(request: HttpRequest) -> HttpResponse:
    """Gives the wall screen (大屏, 运行监督): the city map with switchable case views (heat,
    glow, migration lines, clusters, hot spots) and side panels (latest cases, census, case
    index and trend, sources, hot spots, components, inspectors and alarms) live over the
    case stream; every count opens the cases behind it."""
    return _case_reader_page(request, "screen.html", "运行监督大屏", "screen_config")


@login_required
@require_safe
def supervision_page(request: HttpRequest) -> HttpResponse:
    """Gives process supervision (流程监督): stage navigation with live counts, filtered case
    lists with thumbnails and pins, nearby cases, before/after photos and each step's
    handler, department, start, end and opinion, overdue first."""
    return _case_reader_page(request, "supervision.html", "流程监督", "supervision_config")


# ---- the field app (/m/, 城管通) ---------------------------------------------------------------
# An installable, offline-first web app for inspectors (spec 5.1.1): the page, its web app
# manifest and its service worker all live under /m/ so the worker's scope is the app.

FIELD_SHELL_FILES = (
    "maplibre-gl/maplibre-gl.js",
    "maplibre-gl/maplibre-gl.css",
    "common/basemap.js",
    "field/field.css",
    "field/outbox.js",
    "field/field.js",
    "field/icon.svg",
    "field/icon-192.png",
    "field/icon-512.png",
)


def _shell_version() -> str:
    """A digest of the app shell's files, so a changed file makes the worker cache anew."""
    import hashlib

    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for name in FIELD_SHELL_FILES + ("field/sw.js",):
        found = finders.find(name)
        if found:
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:16]


def _field_area(person) -> dict | None:
    """The inspector's area (their streets and responsibility grids) as simplified GeoJSON."""
    if person is None or person.area_geom is None:
        return None
    import json

    return json.loads(person.area_geom.simplify(0.00002, preserve_topology=True).geojson)


@login_required
@require_safe
def field_page(request: HttpRequest) -> HttpResponse:
    """Gives the field app (城管通): the inspector's map with their area and the components,
    reporting with photos, the task list, self-handling, history and clock-in; reports,
    photos and GPS fixes made offline wait on the phone (IndexedDB) until the network returns."""
    from django.middleware.csrf import get_token
    from django.urls import NoReverseMatch, reverse

    from accounts import permissions as perms
    from accounts.scoping import scope_for
    from spatial.models import MapConfig

    scope = scope_for(request)
    if not (scope.sees_everything or scope.has_perm(perms.CASES_REPORT)):
        return render(
            request,
            "forbidden.html",
            {"title": "城管通", "message": "需要“上报案件”权限（监督员）才能使用城管通。"},
            status=403,
        )
    try:  # the report precheck (issue 22), when this server has it
        precheck_url = reverse("case-precheck")
    except NoReverseMatch:
        precheck_url = None
    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    area = _field_area(person)
    context = {
        "field_config": {
            "user": request.user.get_username(),
            "userId": request.user.pk,
            "name": (person.name if person else "") or request.user.get_username(),
            "grids": [g.name for g in person.grids.all()] if person else [],
            "streets": [a.name for a in person.admin_areas.all()] if person else [],
            "area": area,
            "csrfToken": get_token(request),
            "styleUrl": "/styles/base.json?variant=light",
            "precheckUrl": precheck_url,
            "center": centre,
            "zoom": (config.zoom if config else 12) + 2,
            "fixSeconds": 30,
        }
    }
    response = render(request, "field.html", context)
    response["Cache-Control"] = "private, no-cache"
    return response


@public
@require_safe
def field_manifest(request: HttpRequest) -> HttpResponse:
    """Gives the web app manifest of the field app (installable, standalone, scope /m/)."""
    import json

    from django.templatetags.static import static

    manifest = {
        "name": "城管通 · 城市运行管理服务平台",
        "short_name": "城管通",
        "description": "监督员外业采集：上报案件、核实核查、自行处置、打卡",
        "lang": "zh-CN",
        "start_url": "/m/",
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f5f0",
        "theme_color": "#1f6f5c",
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = HttpResponse(
        json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "no-cache"
    return response


@public
@require_safe
def field_service_worker(request: HttpRequest) -> HttpResponse:
    """Gives the field app's service worker from /m/ (its scope): the shell's URLs and their
    version first, then web/static/field/sw.js. Never cached by the browser's HTTP cache, so a
    new version is found at the next visit."""
    import json

    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    shell = ["/m/"] + [static(name) for name in FIELD_SHELL_FILES]
    source = Path(finders.find("field/sw.js")).read_text(encoding="utf-8")
    head = (
        f"var SHELL_VERSION = {json.dumps(_shell_version())};\nvar SHELL = {json.dumps(shell)};\n"
    )
    response = HttpResponse(head + source, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/m/"
    return response


@public
@require_safe
def public_page(request: HttpRequest) -> HttpResponse:
    """Gives the public service page (/public, 市民服务): the public cases open and recently
    closed on a calm map, nearby convenience points, a report with photos after signing in by
    phone, and "my cases" with ratings and reopening. No staff sign-in; it reads only the
    public API (`cases.open311`)."""
    from spatial.models import MapConfig

    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    context = {
        "public_config": {
            "styleUrl": "/styles/base.json?variant=light",
            "center": centre,
            "zoom": (config.zoom if config else 12) + 1,
            "radius": settings.PUBLIC_NEARBY_RADIUS_M,
            "reopenDays": settings.PUBLIC_REOPEN_DAYS,
        }
    }
    return render(request, "public.html", context)
