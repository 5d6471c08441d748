"""gunicorn settings of `make run` (scripts/run.sh passes `-c web/gunicorn.conf.py`).

One gazetteer per machine: the master loads the application, every route and the geocoder's
gazetteer before it forks, so each worker starts with them already in memory (shared
copy-on-write with the master and its siblings) and the first geocode does not wait for the
load. docs/operations.md ("The web server") explains the choices and the measurements behind
them; bench/README.md ("Web server settings") has the numbers.
"""

from __future__ import annotations

import gc
import logging
import os
import time

log = logging.getLogger("gunicorn.error")

# Load web.wsgi in the master (the hooks below then prepare the rest). A HUP then re-forks the
# workers from the same code: restart the master to serve new code.
preload_app = True

# 3 processes x 2 threads, keep-alive 5 s: chosen by bench/serve_mix.py on 2 cores (sync's p95
# with 1.8x its throughput); with more cores raise the workers, not the threads.
bind = f"127.0.0.1:{os.environ.get('CITYGRID_PORT', '8000')}"
workers = int(os.environ.get("CITYGRID_WEB_WORKERS", "3"))
worker_class = os.environ.get("CITYGRID_WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("CITYGRID_WEB_THREADS", "2"))
keepalive = int(os.environ.get("CITYGRID_WEB_KEEPALIVE", "5"))
graceful_timeout = 5
# gunicorn's most: a 500-character address, which the geocoders accept, is up to 6,000 bytes
# percent-encoded, past gunicorn's default of 4094.
limit_request_line = 8190
loglevel = "warning"
accesslog = "-"


def prepare_master() -> None:
    """Imports every view and loads the gazetteer in the master, then leaves nothing a fork
    must not share: no open database or cache connection, and the loaded objects moved out of
    the garbage collector's generations (`gc.freeze`), so a collection in a worker does not
    write to (and so copy) every page of them."""
    from django.core.cache import caches
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports every URLconf and so every view module
    try:
        from geocoder import dictionary

        started = time.monotonic()
        g = dictionary.gazetteer()
        log.warning(
            "gazetteer loaded in the master: %d names, %d doors, %.1f s",
            len(g.names),
            len(g.doors),
            time.monotonic() - started,
        )
    except Exception:  # the database is down: each worker loads it at its first geocode
        log.exception("gazetteer not loaded before fork; workers load their own")
    finally:
        connections.close_all()
        for cache in caches.all(initialized_only=True):
            cache.close()
    gc.collect()
    gc.freeze()


def when_ready(server) -> None:
    prepare_master()
