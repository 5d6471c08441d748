"""System check (系统检查): ``GET /api/v1/system/status`` for system admins, and the page that
shows it (/admin/gis/system). One answer with the services (database and PostGIS, Redis,
Celery workers: `spatial.health`), the versions the server runs, the disk under its data
folders, the Celery queue's length and the latest background jobs with their errors.

Glue in the project shell, like `web.nearby`: it reads every app's state and no app imports it.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shutil
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core.errors import ErrorSerializer, Forbidden
from core.models import Job
from spatial import health

LATEST_JOBS = 20
DISK_WARN_SHARE = 0.9  # used share of a disk from which the page warns


def versions(database: dict) -> dict:
    """Gives the versions of what the server runs on."""
    import django
    import pyogrio

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gdal": pyogrio.__gdal_version_string__,
        "postgresql": database.get("postgresql"),
        "postgis": database.get("postgis"),
        "geos": database.get("geos"),
        "proj": database.get("proj"),
        "maplibre_gl": _npm_version("maplibre-gl"),
        "terra_draw": _npm_version("terra-draw"),
    }


def _npm_version(package: str) -> str | None:
    path = Path(settings.BASE_DIR) / "node_modules" / package / "package.json"
    try:
        return json.loads(path.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def disks() -> list[dict]:
    """Gives the size and use of the disks under the server's data folders."""
    out = []
    for name, folder in (
        ("data", settings.VAR_DIR),
        ("uploads", settings.UPLOAD_DIR),
        ("media", settings.MEDIA_ROOT),
    ):
        path = Path(folder)
        while not path.exists() and path != path.parent:
            path = path.parent
        usage = shutil.disk_usage(path)
        out.append(
            {
                "name": name,
                "path": str(folder),
                "total_bytes": usage.total,
                "free_bytes": usage.free,
                # Not free to the server: used, and the blocks reserved for root.
                "used_share": round(1 - usage.free / usage.total, 4) if usage.total else None,
                "warning": bool(usage.total) and 1 - usage.free / usage.total >= DISK_WARN_SHARE,
            }
        )
    return out


def queues(redis_ok: bool) -> list[dict]:
    """Gives the length of the Celery queue (tasks waiting for a worker), from Redis."""
    name = settings.CELERY_TASK_DEFAULT_QUEUE
    if not redis_ok:
        return [{"name": name, "waiting": None}]
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=health.REDIS_TIMEOUT_S,
        socket_connect_timeout=health.REDIS_TIMEOUT_S,
    )
    try:
        return [{"name": name, "waiting": int(client.llen(name))}]
    finally:
        client.close()


def jobs(now: dt.datetime) -> dict:
    """Gives the background jobs of the last day by state and the latest ones, errors first
    message included."""
    day = Job.objects.filter(created_at__gte=now - dt.timedelta(days=1))
    counts = {row["state"]: row["n"] for row in day.values("state").annotate(n=Count("id"))}
    latest = Job.objects.select_related("owner").order_by("-created_at")[:LATEST_JOBS]
    return {
        "last_day": {state: counts.get(state, 0) for state in Job.State.values},
        "latest": [
            {
                "id": str(job.pk),
                "kind": job.kind,
                "state": job.state,
                "owner": job.owner.get_username() if job.owner else None,
                "file_name": job.params.get("file_name"),
                "created_at": _local(job.created_at),
                "finished_at": _local(job.finished_at) if job.finished_at else None,
                "error": _first_error(job.errors),
            }
            for job in latest
        ],
    }


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _first_error(errors) -> str | None:
    if not errors:
        return None
    first = errors[0]
    return str(first.get("message", first)) if isinstance(first, dict) else str(first)


def status() -> dict:
    """Gives the system check: services, versions, disks, queues and jobs."""
    report = health.health()
    return {
        "checked_at": _local(timezone.now()),
        "status": report["status"],
        "services": {k: report[k] for k in ("database", "redis", "celery")},
        "versions": versions(report["database"]),
        "disks": disks(),
        "queues": queues(report["redis"].get("ok", False)),
        "jobs": jobs(timezone.now()),
    }


class DiskSerializer(serializers.Serializer):
    name = serializers.CharField()
    path = serializers.CharField()
    total_bytes = serializers.IntegerField()
    free_bytes = serializers.IntegerField()
    used_share = serializers.FloatField(allow_null=True)
    warning = serializers.BooleanField(help_text=f"at least {DISK_WARN_SHARE:.0%} used")


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    waiting = serializers.IntegerField(allow_null=True, help_text="null: Redis unreachable")


class JobRowSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=Job.State.values)
    owner = serializers.CharField(allow_null=True)
    file_name = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    finished_at = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="the first error's message")


class JobsSerializer(serializers.Serializer):
    last_day = serializers.DictField(child=serializers.IntegerField(), help_text="by state")
    latest = JobRowSerializer(many=True)


class SystemStatusSerializer(serializers.Serializer):
    checked_at = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "degraded", "failed"])
    services = serializers.DictField(child=serializers.DictField())
    versions = serializers.DictField(child=serializers.CharField(allow_null=True))
    disks = DiskSerializer(many=True)
    queues = QueueSerializer(many=True)
    jobs = JobsSerializer()


class SystemStatusView(APIView):
    @extend_schema(
        operation_id="system_status",
        tags=["system"],
        summary="System check (系统检查): services, versions, disks, queue, latest jobs",
        responses={200: SystemStatusSerializer, 401: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        if not scope.sees_everything:
            raise Forbidden("the system check is for system admins")
        return Response(status())
