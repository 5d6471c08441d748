"""Health of the parts the server runs on: database and PostGIS, Redis, Celery workers."""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.db import connection

CELERY_PING_TIMEOUT_S = 0.5
REDIS_TIMEOUT_S = 1.0
_POSTGIS_RE = re.compile(r'POSTGIS="([^" ]+)')
_LIB_RE = re.compile(r'\b(GEOS|PROJ)="([^" ]+)')


def check_database(database=None) -> dict:
    """Gives the database status and the PostGIS version (short form of postgis_full_version);
    `database` is a Django connection, the default one unless given."""
    started = time.perf_counter()
    try:
        with (database or connection).cursor() as cursor:
            cursor.execute("SELECT postgis_full_version(), current_setting('server_version')")
            full, server = cursor.fetchone()
    except Exception as exc:  # any driver error means the database is not usable
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc).strip()[:200]}
    match = _POSTGIS_RE.search(full or "")
    libs = dict(_LIB_RE.findall(full or ""))
    return {
        "ok": True,
        "postgresql": server,
        "postgis": match.group(1) if match else None,
        "geos": libs.get("GEOS"),
        "proj": libs.get("PROJ"),
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def check_redis() -> dict:
    """Gives whether Redis answers PING."""
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        client.ping()
        client.close()
    except Exception as exc:  # connection refused, timeout, auth: all mean "not usable"
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_celery(broker_ok: bool) -> dict:
    """Gives the Celery workers that answered a ping within `CELERY_PING_TIMEOUT_S`."""
    if not broker_ok:
        return {"ok": False, "workers": [], "error": "broker (Redis) unreachable"}
    from celery import current_app as app

    try:
        replies = app.control.inspect(timeout=CELERY_PING_TIMEOUT_S).ping() or {}
    except Exception as exc:  # broker errors while publishing the ping
        return {"ok": False, "workers": [], "error": type(exc).__name__ + ": " + str(exc)[:200]}
    workers = sorted(replies)
    return {"ok": bool(workers), "workers": workers}


def overall_status(database: dict, redis_status: dict, celery: dict) -> str:
    """Gives "ok" when every part answers, "degraded" when only the database does, "failed"
    when the database does not (nothing works without it)."""
    if not database.get("ok"):
        return "failed"
    if redis_status.get("ok") and celery.get("ok"):
        return "ok"
    return "degraded"


def health(database=None) -> dict:
    """Gives the health report the health endpoint serves (for `database`, default the default
    connection)."""
    database = check_database(database)
    redis_status = check_redis()
    celery = check_celery(redis_status["ok"])
    return {
        "status": overall_status(database, redis_status, celery),
        "database": database,
        "redis": redis_status,
        "celery": celery,
    }
