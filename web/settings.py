"""CityGrid settings. Every value comes from the environment here and only here."""

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from celery.schedules import crontab
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CITYGRID_VAR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


DEBUG = _env_bool("CITYGRID_DEBUG", True)
SECRET_KEY = os.environ.get("CITYGRID_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A known key signs sessions anyone could forge: never serve with it.
        raise ImproperlyConfigured(
            "CITYGRID_DEBUG=0 needs CITYGRID_SECRET_KEY (a long random value)"
        )
    SECRET_KEY = "citygrid-development-key-not-for-production"
ALLOWED_HOSTS = os.environ.get("CITYGRID_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)
ALLOW_DEMO_USERS = _env_bool("CITYGRID_ALLOW_DEMO_USERS", False)


def _networks(value: str) -> list[str]:
    """Gives the IP addresses and CIDR networks of a comma-separated list (refusing bad ones)."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    for name in names:
        try:
            ipaddress.ip_network(name, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"not an IP address or CIDR network: {name!r}") from None
    return names


# Reverse proxies whose X-Forwarded-For is believed (accounts.authentication.client_ip): when
# the direct peer is one of these, the client is the right-most untrusted address in the header.
# Empty (the default): REMOTE_ADDR is the client and the header is ignored.
TRUSTED_PROXIES = _networks(os.environ.get("CITYGRID_TRUSTED_PROXIES", ""))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API reference's Redoc, served from here (no CDN)
    "core",
    "web",
    "accounts",
    "data",
    "spatial",
    "geocoder",
    "tiles",
    "cases",
    "tracking",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the other middleware, so whatever they raise (a bad Host header, the operation
    # log's commit) reaches an API caller as a JSON error, never Django's HTML page.
    "core.errors.JsonErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.middleware.SecurityHeadersMiddleware",
    "accounts.audit.OperationLogMiddleware",
]
AUTHENTICATION_BACKENDS = ["accounts.authentication.PolicyBackend"]
# Database sessions, each process keeping the rows it read for CITYGRID_AUTH_CACHE_SECONDS;
# the same lifetime bounds this process's copies of users, bearer tokens and scopes
# (accounts/authcache.py: a revoked grant, a deactivated user or a changed password takes effect
# at once in the process that made the change, within this time in the others; 0 turns it off).
SESSION_ENGINE = "accounts.sessions"
CITYGRID_AUTH_CACHE_SECONDS = float(os.environ.get("CITYGRID_AUTH_CACHE_SECONDS", 2.0))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.PolicyPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


# Django's PostGIS backend with a health check that needs no round trip (core/postgis).
GIS_ENGINE = "core.postgis"


def database_from_env(environ: Mapping[str, str] = os.environ) -> dict:
    """Gives the default database's settings: from DATABASE_URL when it is set, else the
    project-local cluster that scripts/services.sh runs (Unix socket under var/, port 54329).

    Any postgres://, postgresql:// or postgis:// URL is served by PostGIS. Percent-encode what
    a URL cannot hold as it is: a socket directory as the host (%2Fpath%2Fto%2Frun), an @ or :
    in a password. The query string becomes OPTIONS for libpq (?sslmode=require)."""
    url = environ.get("DATABASE_URL")
    if url:
        database = dict(dj_database_url.parse(url, engine=GIS_ENGINE))
        database["PORT"] = str(database["PORT"])
    else:
        database = {
            "ENGINE": GIS_ENGINE,
            "NAME": environ.get("CITYGRID_PG_DB", "citygrid"),
            "USER": "citygrid",
            "HOST": environ.get("CITYGRID_PG_SOCKET_DIR", str(VAR_DIR / "postgres" / "run")),
            "PORT": environ.get("CITYGRID_PG_PORT", "54329"),
        }
    return {
        **database,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": environ.get("CITYGRID_TEST_DB", "test_citygrid")},
    }


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get(
    "REDIS_URL", f"redis://127.0.0.1:{os.environ.get('CITYGRID_REDIS_PORT', '63799')}/0"
)
CACHES = {
    "default": {
        "BACKEND": "core.cache.RedisCache",  # one Redis client per server (core/cache.py)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CITYGRID_CACHE_PREFIX", "citygrid"),
        # A Redis that stops answering fails a cache call within this time instead of holding
        # the request (the tile cache then serves without it, see tiles/cache.py).
        "OPTIONS": {
            "socket_connect_timeout": float(os.environ.get("CITYGRID_CACHE_TIMEOUT_S", 1.0)),
            "socket_timeout": float(os.environ.get("CITYGRID_CACHE_TIMEOUT_S", 1.0)),
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CITYGRID_CELERY_QUEUE", "citygrid")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a long import does not hold back queued jobs
CELERY_BEAT_SCHEDULE = {
    # Jobs whose worker died or whose task was never sent (see core.jobs).
    "reap-jobs": {"task": "core.reap_jobs", "schedule": 30.0},
    # Cases whose warning time or deadline has come (cases.deadlines).
    "refresh-case-deadlines": {"task": "cases.refresh_deadlines", "schedule": 60.0},
    # Holds (挂账) whose release time has come (cases.applications).
    "release-case-holds": {"task": "cases.release_holds", "schedule": 60.0},
    # Notifications not yet delivered (cases.notifications): a broker that was down, a retry.
    "deliver-notifications": {"task": "cases.deliver_notifications", "schedule": 30.0},
    # Cases waiting for an acceptor on duty (cases.assignment), behind the rounds after commits.
    "assign-waiting-cases": {"task": "cases.assign_waiting", "schedule": 60.0},
    # Timed dispatches (定时派遣, cases.scheduling) whose time has come.
    "run-scheduled-dispatches": {"task": "cases.run_scheduled_dispatches", "schedule": 30.0},
    # The category recommendation's model, trained again on the day's cases (cases.recommend).
    "train-recommend-model": {
        "task": "cases.train_recommend_model",
        "schedule": crontab(hour=2, minute=40),
    },
    # Extents and counts shown in the layer list, kept true after bulk SQL edits of the tables.
    "refresh-layer-stats": {
        "task": "spatial.refresh_layers",
        "schedule": crontab(hour=3, minute=15),
    },
    # Fix partitions for the days ahead, and those past the retention dropped (tracking).
    "tracking-partitions": {
        "task": "tracking.maintain_partitions",
        "schedule": crontab(hour=0, minute=7),
    },
    # Signal-lost and absent alarms of trackers on duty (tracking.alarms, tracking.roster).
    "tracking-signal-lost": {"task": "tracking.signal_lost", "schedule": 60.0},
    # The hot spots' weights of the city's unit grids, built again after the grids changed
    # (evaluation.hotspots: 8–10 s for a large city, then kept in the shared cache).
    "warm-hot-spot-weights": {"task": "evaluation.warm_hot_spot_weights", "schedule": 600.0},
    # Area cells of the people's areas (tiles.cells.sync_area_cells): a new area's scoped cluster
    # tiles read index ranges within a minute, and areas nobody holds any more are dropped.
    "sync-area-cells": {"task": "tiles.sync_area_cells", "schedule": 60.0},
    # Patrol checkpoints missed at the end of their window (tracking.patrol).
    "tracking-checkpoints": {"task": "tracking.checkpoints", "schedule": 60.0},
}

# The kernel (core/) asks for scopes and names its event channels through these, so it needs
# no import of the apps that define them.
CITYGRID_SCOPE_FOR_USER = "accounts.scoping.scope_for_user"
CITYGRID_SYSTEM_SCOPE = "accounts.scoping.system_scope"
CITYGRID_EVENTS_PREFIX = os.environ.get("CITYGRID_EVENTS_PREFIX", "citygrid")
# The stream server (core/streams.py): uvicorn on the web port + 1 unless set; pages reach it on
# the host they were served from, or at CITYGRID_STREAM_URL (e.g. behind a proxy).
CITYGRID_STREAM_PORT = int(
    os.environ.get("CITYGRID_STREAM_PORT", int(os.environ.get("CITYGRID_PORT", "8000")) + 1)
)
CITYGRID_STREAM_URL = os.environ.get("CITYGRID_STREAM_URL", "")
# Notifications (cases.notifications): the SMS sender class (the default writes to the log, so
# nothing leaves the machine), the first retry's wait (doubling after each failure) and the
# tries before a row is left undelivered (its last_error says why).
CITYGRID_SMS_SENDER = os.environ.get("CITYGRID_SMS_SENDER", "cases.notifications.LogSmsSender")
CITYGRID_NOTIFY_RETRY_S = float(os.environ.get("CITYGRID_NOTIFY_RETRY_S", 10))
CITYGRID_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("CITYGRID_NOTIFY_MAX_ATTEMPTS", 8))
# Job recovery (core.jobs): a running job beats every HEARTBEAT_S; one silent for STALE_AFTER_S
# is reaped (sent again up to MAX_ATTEMPTS runs, else failed); a job not sent within
# SEND_GRACE_S (broker down at the time) is sent by the reaper.
CITYGRID_JOB_HEARTBEAT_S = float(os.environ.get("CITYGRID_JOB_HEARTBEAT_S", 10))
CITYGRID_JOB_STALE_AFTER_S = float(os.environ.get("CITYGRID_JOB_STALE_AFTER_S", 60))
CITYGRID_JOB_MAX_ATTEMPTS = int(os.environ.get("CITYGRID_JOB_MAX_ATTEMPTS", 2))
CITYGRID_JOB_SEND_GRACE_S = float(os.environ.get("CITYGRID_JOB_SEND_GRACE_S", 30))

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "web" / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "web" / "static",
    # MapLibre GL JS from npm (package.json; scripts/install.sh runs npm ci): /static/maplibre-gl/
    ("maplibre-gl", BASE_DIR / "node_modules" / "maplibre-gl" / "dist"),
    # terra-draw and its MapLibre adapter (UMD builds) for the GIS admin's drawing tools
    ("terra-draw", BASE_DIR / "node_modules" / "terra-draw" / "dist"),
    ("terra-draw-adapter", BASE_DIR / "node_modules" / "terra-draw-maplibre-gl-adapter" / "dist"),
    # ECharts from npm, for the charts of the wall screen (/screen): /static/echarts/
    ("echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
# collectstatic (scripts/run.sh) writes a gzip and a Brotli copy beside each file, which WhiteNoise
# serves to browsers that accept them (maplibre-gl.js: 1.06 MB, 0.28 MB gzipped): names stay as
# they are, so pages and the field app's service worker find the same URLs.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "web.static_storage.ChangedFilesCompressedStorage"},
}
# Source maps (36 of the 53 MB collected, MapLibre's and Redoc's) are for a developer's tools,
# not a phone: left uncompressed, they keep collectstatic's compression from dominating the start.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
UPLOAD_DIR = Path(os.environ.get("CITYGRID_UPLOAD_DIR", VAR_DIR / "uploads"))
MAX_UPLOAD_BYTES = int(os.environ.get("CITYGRID_MAX_UPLOAD_BYTES", 512 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Large uploads spool here, not in /tmp, so nothing an upload writes lands outside UPLOAD_DIR
# (spatial.layers.files creates it).
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_DIR / "spool")
# Django's check (files.E001) refuses a temp dir that does not exist, before anything that
# could create it runs (migrate on a fresh machine): it exists from the moment settings load.
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# Case photos, videos and recordings (served through the case API, scoped; never as static files).
MEDIA_ROOT = Path(os.environ.get("CITYGRID_MEDIA_DIR", VAR_DIR / "media"))
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
CASE_MEDIA_LIMITS = {
    # kind: (content types, bytes)
    "image": (("image/jpeg", "image/png", "image/webp"), 10 * 1024 * 1024),
    "video": (("video/mp4", "video/quicktime"), 100 * 1024 * 1024),
    "audio": (("audio/mpeg", "audio/mp4", "audio/amr", "audio/wav"), 10 * 1024 * 1024),
}
# Case tiles (/tiles/cases/…): below this zoom a tile holds grid clusters of about this many
# pixels of a 512-pixel tile, single cases from it on.
CASES_TILE_CLUSTER_BELOW_ZOOM = int(os.environ.get("CITYGRID_CASES_TILE_CLUSTER_BELOW_ZOOM", 15))
CASES_TILE_CLUSTER_CELL_PX = int(os.environ.get("CITYGRID_CASES_TILE_CLUSTER_CELL_PX", 48))
# Case exports to Excel: up to DIRECT rows are answered at once, more become a job; at most MAX
# rows (MAX_WITH_PHOTOS with photo thumbnails, PHOTOS_PER_CASE of them a case) per file.
CASES_EXPORT_DIRECT = int(os.environ.get("CITYGRID_CASES_EXPORT_DIRECT", 1000))
CASES_EXPORT_MAX = int(os.environ.get("CITYGRID_CASES_EXPORT_MAX", 200_000))
CASES_EXPORT_MAX_WITH_PHOTOS = int(os.environ.get("CITYGRID_CASES_EXPORT_MAX_WITH_PHOTOS", 5_000))
CASES_EXPORT_PHOTOS_PER_CASE = int(os.environ.get("CITYGRID_CASES_EXPORT_PHOTOS_PER_CASE", 3))
# Printing cases to PDF (cases/printing.py): up to DIRECT rows of a list are printed at once,
# more become a job, at most MAX rows a list (layout takes ~5 ms and ~0.3 MB a row, bench/README
# "Printing a case list to PDF"); a case sheet shows PHOTOS_PER_STAGE photos a stage.
CASES_PRINT_DIRECT = int(os.environ.get("CITYGRID_CASES_PRINT_DIRECT", 100))
CASES_PRINT_MAX = int(os.environ.get("CITYGRID_CASES_PRINT_MAX", 2_000))
CASES_PRINT_PHOTOS_PER_STAGE = int(os.environ.get("CITYGRID_CASES_PRINT_PHOTOS_PER_STAGE", 6))
# Category recommendation (cases/recommend.py, spec 5.2.7): models are versioned files in DIR
# (made here, so a fresh machine has it); the history (registered cases) trains alone from
# MIN_HISTORY cases, below that with the generated corpus (CORPUS descriptions). A registered
# case is dispatched to the manual's department at once when the model gives its own class at
# least AUTO_DISPATCH (0 < p ≤ 1; 0, the default, never).
CASES_RECOMMEND_DIR = Path(os.environ.get("CITYGRID_CASES_RECOMMEND_DIR", VAR_DIR / "recommend"))
CASES_RECOMMEND_DIR.mkdir(parents=True, exist_ok=True)
CASES_RECOMMEND_MIN_HISTORY = int(os.environ.get("CITYGRID_CASES_RECOMMEND_MIN_HISTORY", 5000))
CASES_RECOMMEND_CORPUS = int(os.environ.get("CITYGRID_CASES_RECOMMEND_CORPUS", 8000))
CASES_RECOMMEND_AUTO_DISPATCH = float(os.environ.get("CITYGRID_CASES_RECOMMEND_AUTO_DISPATCH", 0))
# Similar cases (相似案件, spec 5.2.3): the default distance and time window of every class
# without its own cases.SimilarRule.
CASES_SIMILAR_METRES = float(os.environ.get("CITYGRID_CASES_SIMILAR_METRES", 10))
CASES_SIMILAR_HOURS = float(os.environ.get("CITYGRID_CASES_SIMILAR_HOURS", 24))
# Duplicate cases (spec 5.2.4, cases.duplicates): the default period after a closure, in days.
CASES_DUPLICATE_DAYS = float(os.environ.get("CITYGRID_CASES_DUPLICATE_DAYS", 30))
# Automatic verification and check tasks (spec 5.3.1-5.3.2) are rules kept as data:
# `cases.AutoTaskRule`, edited through /api/v1/cases/auto-task-rules (cases.autosend).
# Tracking (tracking/): the alarm rules' parameters and the fix table's partitions. Distances in
# metres, durations in seconds, speeds in km/h.
TRACKING_OUT_OF_GRID_TOLERANCE_M = float(os.environ.get("CITYGRID_TRACKING_GRID_TOLERANCE_M", 30))
TRACKING_OUT_OF_GRID_MIN_S = float(os.environ.get("CITYGRID_TRACKING_GRID_MIN_S", 180))
TRACKING_STAY_RADIUS_M = float(os.environ.get("CITYGRID_TRACKING_STAY_RADIUS_M", 50))
TRACKING_STAY_MIN_S = float(os.environ.get("CITYGRID_TRACKING_STAY_MIN_S", 1800))
TRACKING_SIGNAL_LOST_S = float(os.environ.get("CITYGRID_TRACKING_SIGNAL_LOST_S", 600))
# Scheduled but absent (缺勤): on duty (tracking.roster) this long with no fix since the shift began.
TRACKING_ABSENT_S = 60 * float(os.environ.get("CITYGRID_TRACKING_ABSENT_MIN", 15))
TRACKING_SPEED_LIMIT_KMH = float(os.environ.get("CITYGRID_TRACKING_SPEED_LIMIT_KMH", 60))
TRACKING_SPEEDING_MIN_S = float(os.environ.get("CITYGRID_TRACKING_SPEEDING_MIN_S", 30))
# Off the assigned patrol route (vehicles): farther than TOLERANCE from it for MIN_S; a route's
# own tolerance_m overrides the first.
TRACKING_OFF_ROUTE_TOLERANCE_M = float(os.environ.get("CITYGRID_TRACKING_ROUTE_TOLERANCE_M", 50))
TRACKING_OFF_ROUTE_MIN_S = float(os.environ.get("CITYGRID_TRACKING_ROUTE_MIN_S", 120))
TRACKING_MAX_SPEED_KMH = float(os.environ.get("CITYGRID_TRACKING_MAX_SPEED_KMH", 200))
TRACKING_MAX_ACCURACY_M = float(os.environ.get("CITYGRID_TRACKING_MAX_ACCURACY_M", 100))
TRACKING_FUTURE_TOLERANCE_S = float(os.environ.get("CITYGRID_TRACKING_FUTURE_TOLERANCE_S", 120))
TRACKING_ONLINE_S = float(os.environ.get("CITYGRID_TRACKING_ONLINE_S", 300))
TRACKING_MAX_BATCH = int(os.environ.get("CITYGRID_TRACKING_MAX_BATCH", 1000))
# A batch older than the tracker's newest fix replays the stored tail from before it, up to this
# long (older batches are stored, flagged as usual, but raise no alarms).
TRACKING_REPLAY_MAX_S = float(os.environ.get("CITYGRID_TRACKING_REPLAY_MAX_S", 86400))
# Playback: a stop is fixes within TRACKING_STAY_RADIUS_M for this long; a signal gap is no fix
# for TRACKING_ONLINE_S.
TRACKING_PLAYBACK_STOP_MIN_S = float(os.environ.get("CITYGRID_TRACKING_STOP_MIN_S", 180))
TRACKING_RETENTION_DAYS = int(os.environ.get("CITYGRID_TRACKING_RETENTION_DAYS", 180))
TRACKING_PARTITIONS_AHEAD_DAYS = int(os.environ.get("CITYGRID_TRACKING_PARTITIONS_AHEAD", 7))
# Attendance (考勤, tracking.attendance): a clock-in later than the shift's start by more than the
# grace is late, a clock-out earlier than its end by more is leaving early; a clock-in counts for
# a shift from the window before its start, a clock-out until the window after its end.
TRACKING_LATE_GRACE_S = 60 * float(os.environ.get("CITYGRID_TRACKING_LATE_GRACE_MIN", 5))
TRACKING_CLOCK_WINDOW_S = 60 * float(os.environ.get("CITYGRID_TRACKING_CLOCK_WINDOW_MIN", 120))
TRACKING_CLOCK_PHOTO_MAX_BYTES = 10 * 1024 * 1024
# A clock made offline (离线打卡) is accepted this long after the phone's time of it; the phone
# may be ahead of the server by the skew (more: refused).
TRACKING_OFFLINE_CLOCK_MAX_AGE_S = float(
    os.environ.get("CITYGRID_TRACKING_OFFLINE_CLOCK_MAX_AGE_S", 12 * 3600)
)
TRACKING_OFFLINE_CLOCK_SKEW_S = float(os.environ.get("CITYGRID_TRACKING_OFFLINE_CLOCK_SKEW_S", 120))
# Layer imports refuse coordinates outside the districts' extent (or CITY_CENTER ± 1°) widened
# by this many degrees: catches a wrong CRS (metres read as degrees, swapped lat/lon).
LAYER_IMPORT_MARGIN_DEG = float(os.environ.get("CITYGRID_LAYER_IMPORT_MARGIN_DEG", "1.0"))

# Where the demo city is generated (lon, lat of its centre) and its metric CRS: a CGCS2000
# 3-degree Gauss-Kruger zone (EPSG:4547 is CM 114E; Beijing's 117E is EPSG:4548).
CITY_CENTER = tuple(
    float(v) for v in os.environ.get("CITYGRID_CITY_CENTER", "116.3500,40.0000").split(",")
)
CITY_METRIC_SRID = int(os.environ.get("CITYGRID_METRIC_SRID", "4548"))

# Forward geocoding answers nothing below this confidence (0–1, calibrated on the evaluation
# set: see geocoder/confidence.py); 0 keeps every candidate.
GEOCODER_MIN_CONFIDENCE = float(os.environ.get("CITYGRID_GEOCODER_MIN_CONFIDENCE", "0.3"))
# The city (cities) the address data covers, comma-separated (北京市): an address stating another
# city answers nothing. Empty: a stated city is not checked.
GEOCODER_CITY_NAMES = [
    n for n in os.environ.get("CITYGRID_GEOCODER_CITY_NAMES", "").split(",") if n.strip()
]

# Tiles (tiles/): the server-side tile cache (off for cold benchmark runs), its lifetime, the
# browser's max-age (0: revalidate by ETag each time, so an edit shows on the next request),
# the highest zoom served and the simplification tolerance in tile units (1/4096 of a tile).
TILES_CACHE_ENABLED = _env_bool("CITYGRID_TILES_CACHE", True)
TILES_CACHE_SECONDS = int(os.environ.get("CITYGRID_TILES_CACHE_SECONDS", 7 * 24 * 3600))
# After Redis fails a cache call, tiles (and the other users of the cache) are served without
# it this long before it is tried again (core/cache.py). The earlier name of the variable,
# CITYGRID_TILES_CACHE_RETRY_SECONDS, is still read.
CACHE_RETRY_SECONDS = float(
    os.environ.get(
        "CITYGRID_CACHE_RETRY_SECONDS", os.environ.get("CITYGRID_TILES_CACHE_RETRY_SECONDS", 10)
    )
)
TILES_MAX_AGE = int(os.environ.get("CITYGRID_TILES_MAX_AGE", 0))
TILES_MAX_ZOOM = int(os.environ.get("CITYGRID_TILES_MAX_ZOOM", 24))
TILES_SIMPLIFY_PX = float(os.environ.get("CITYGRID_TILES_SIMPLIFY_PX", 1.0))
# Map label glyphs (tiles/glyphs.py): the font files served as /fonts/{stack}/{range}.pbf
# (every face of each file, named "family style"; colon separated), the directory where
# generated ranges are kept (made now, so a fresh machine serves at once) and the browser's
# max-age for them (a font file changes with a deploy, so a long one).
GLYPH_FONT_FILES = [
    f
    for f in os.environ.get(
        "CITYGRID_GLYPH_FONT_FILES", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    ).split(":")
    if f.strip()
]
GLYPHS_DIR = Path(os.environ.get("CITYGRID_GLYPHS_DIR", VAR_DIR / "glyphs"))
GLYPHS_DIR.mkdir(parents=True, exist_ok=True)
GLYPHS_MAX_AGE = int(os.environ.get("CITYGRID_GLYPHS_MAX_AGE", 30 * 24 * 3600))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.drf_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Request bodies are JSON (415 otherwise); the two upload views declare multipart themselves.
    # Form encodings cannot carry the lists and nulls the serializers document.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CityGrid API",
    "DESCRIPTION": "Spatial core of the urban operations management platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "REDOC_DIST": "SIDECAR",  # Redoc from drf-spectacular-sidecar's static files, not a CDN
    "ENUM_NAME_OVERRIDES": {
        "DepartmentKindEnum": "accounts.models.Department.Kind",
        "CategoryKindEnum": "data.models.Category.Kind",
        "CaseLevelEnum": "cases.models.Level",
        "DispatchModeEnum": "cases.models.DispatchMode",
        "RuleEffectEnum": "cases.models.RuleEffect",
        "RuleHitKindEnum": ["area", "road", "hours"],
        "CollectionSuspensionStateEnum": "cases.models.CollectionSuspension.State",
        "EvaluationTaskStateEnum": "evaluation.comprehensive.models.TaskState",
        "EvaluationMethodEnum": "evaluation.comprehensive.models.EvaluationIndicator.Method",
        "EvaluationObjectKindEnum": "evaluation.comprehensive.models.EvaluationObject.Kind",
        "FillingKindEnum": "evaluation.comprehensive.models.FillingTask.Kind",
        "LogicalRuleKindEnum": "evaluation.comprehensive.models.LogicalRule.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "web.openapi.add_error_responses",
    ],
}

# GDAL 3.6 cannot block network access for spatial references; we never pass user-supplied
# SRS strings to GDAL unchecked (see spatial/crs.py).
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CITYGRID_LOG_LEVEL", "WARNING")},
}

# The public service (cases.open311, docs/public-service.md): the Open311 jurisdiction id
# (another one is 404), a new API key's requests per hour, the citizens' one-time codes
# (lifetime, tries, codes per phone per hour), how long a citizen stays signed in, how long after
# closing a case may be rated and reopened, how long closed cases stay on the public map, and the
# radius of nearby convenience points.
OPEN311_JURISDICTION = os.environ.get("CITYGRID_OPEN311_JURISDICTION", "citygrid")
OPEN311_DEFAULT_HOURLY_QUOTA = int(os.environ.get("CITYGRID_OPEN311_HOURLY_QUOTA", 600))
CITIZEN_CODE_TTL_S = int(os.environ.get("CITYGRID_CITIZEN_CODE_TTL_S", 300))
CITIZEN_CODE_ATTEMPTS = int(os.environ.get("CITYGRID_CITIZEN_CODE_ATTEMPTS", 5))
CITIZEN_CODES_PER_HOUR = int(os.environ.get("CITYGRID_CITIZEN_CODES_PER_HOUR", 5))
CITIZEN_CODES_PER_IP_HOUR = int(os.environ.get("CITYGRID_CITIZEN_CODES_PER_IP_HOUR", 30))
CITIZEN_TOKEN_DAYS = int(os.environ.get("CITYGRID_CITIZEN_TOKEN_DAYS", 30))
PUBLIC_REOPEN_DAYS = int(os.environ.get("CITYGRID_PUBLIC_REOPEN_DAYS", 7))
PUBLIC_CLOSED_DAYS = int(os.environ.get("CITYGRID_PUBLIC_CLOSED_DAYS", 30))
PUBLIC_NEARBY_RADIUS_M = int(os.environ.get("CITYGRID_PUBLIC_NEARBY_RADIUS_M", 10000))
# Complaints and questions may come without a place: their case is filed at this point (the
# operations centre; lon,lat WGS84) and kept off the public map.
PUBLIC_UNLOCATED_POINT = tuple(
    float(v)
    for v in os.environ.get(
        "CITYGRID_PUBLIC_UNLOCATED_POINT", ",".join(map(str, CITY_CENTER))
    ).split(",")
)
