"""The GIS admin pages (GIS管理, /admin/gis/…): layers (upload with the import job's progress,
the layer list, style editing live on the map), responsibility grids built from unit grids,
controlled areas drawn on the map, and the configuration tables (calendars, workflows,
categories). Each page only calls the JSON API; who may open which
page is the permission its writes need."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accounts import permissions as perms

# page name -> (title, the permissions any of which opens it)
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "layers": ("图层管理", (perms.LAYERS_IMPORT, perms.LAYERS_EDIT, perms.STYLES_EDIT)),
    "grids": ("责任网格", (perms.LAYERS_EDIT,)),
    "areas": ("管控区域", (perms.CASES_REGISTER,)),
    "routes": ("巡查路线", (perms.TRACKING_MONITOR,)),
    "config": ("业务配置", (perms.CONFIG_EDIT,)),
    "system": ("系统检查", (perms.SYSTEM_ADMIN,)),
}


def allowed_pages(scope) -> list[str]:
    """Gives the GIS admin pages the caller may open, in menu order."""
    return [
        name
        for name, (_, needed) in PAGES.items()
        if scope.sees_everything or any(scope.has_perm(p) for p in needed)
    ]


def _page(request: HttpRequest, name: str) -> HttpResponse:
    from django.middleware.csrf import get_token

    from accounts.scoping import scope_for
    from spatial.models import MapConfig

    scope = scope_for(request)
    title, needed = PAGES[name]
    pages = allowed_pages(scope)
    if name not in pages:
        labels = "、".join(f"“{perms.ALL_PERMISSIONS[p]}”" for p in needed)
        return render(
            request,
            "forbidden.html",
            {"title": title, "message": f"需要{labels}权限才能打开此页面。"},
            status=403,
        )
    config = MapConfig.objects.filter(name="default").first()
    centre = list(config.center) if config and config.center else list(settings.CITY_CENTER)
    person = getattr(request.user, "person", None)
    context = {
        "page": name,
        "title": title,
        "menu": [(p, PAGES[p][0]) for p in pages],
        "gis_config": {
            "page": name,
            "name": (person.name if person else "") or request.user.get_username(),
            "permissions": sorted(scope.permissions),
            "systemAdmin": scope.sees_everything,
            "csrfToken": get_token(request),
            # every layer the caller reads, also those no theme holds yet (a new import)
            "styleUrl": "/styles/all.json?variant=light",
            "center": centre,
            "zoom": (config.zoom if config else 12) + 1,
            "maxUploadBytes": settings.MAX_UPLOAD_BYTES,
        },
    }
    return render(request, f"gisadmin/{name}.html", context)


@login_required
@require_safe
def gis_home(request: HttpRequest) -> HttpResponse:
    """Sends the caller to the first GIS admin page they may open (图层管理 for GIS admins)."""
    from accounts.scoping import scope_for

    pages = allowed_pages(scope_for(request))
    return redirect(f"/admin/gis/{pages[0]}" if pages else "/admin/gis/layers")


@login_required
@require_safe
def layers_page(request: HttpRequest) -> HttpResponse:
    """Gives the layers page (图层管理): upload a file and follow its import job, the layer list
    with preview, count and extent, style, zoom range and visibility edited live on the map."""
    return _page(request, "layers")


@login_required
@require_safe
def grids_page(request: HttpRequest) -> HttpResponse:
    """Gives the responsibility grid page (责任网格): tick unit grids on the map, save them as a
    grid (the union, coded by the rule), and see a grid as it was on a date."""
    return _page(request, "grids")


@login_required
@require_safe
def areas_page(request: HttpRequest) -> HttpResponse:
    """Gives the controlled area page (管控区域): draw an area on the map (terra-draw), its
    effect, classes, validity and daily windows, saved through the controlled-areas API."""
    return _page(request, "areas")


@login_required
@require_safe
def config_page(request: HttpRequest) -> HttpResponse:
    """Gives the configuration page (业务配置): work calendars with their holidays and make-up
    days (edited one by one or from a spreadsheet), the workflow definitions and the category
    tree with its conditions, limits and departments as tables."""
    return _page(request, "config")


@login_required
@require_safe
def system_page(request: HttpRequest) -> HttpResponse:
    """Gives the system check page (系统检查, system admins): services, versions, disks, the
    task queue and the latest background jobs with their errors (`web.system`)."""
    return _page(request, "system")


@login_required
@require_safe
def routes_page(request: HttpRequest) -> HttpResponse:
    """Gives the patrol route page (巡查路线): draw a route and its checkpoints (巡查点) with
    terra-draw, their radius, time windows and visits, saved through the tracking routes API."""
    return _page(request, "routes")
