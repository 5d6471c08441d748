#!/usr/bin/env bash
# `make run`: services, migrations, the demo city when the database is empty, then the web
# server, a Celery worker and beat. Ctrl-C stops every one of them, the services included.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/worker_user.sh"
cd "$ROOT"
PY="$VENV/bin/python"
pids=()
cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/services.sh" stop
}
trap cleanup INT TERM EXIT

# Serve as in production: DEBUG off (debug pages are for `runserver`), with this machine's own
# secret key, made once. The demo users are allowed because this is the demo.
mkdir -p "$VAR"
if [ -z "${CITYGRID_SECRET_KEY:-}" ]; then
  [ -s "$VAR/secret_key" ] || (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(50))" >"$VAR/secret_key")
  CITYGRID_SECRET_KEY="$(cat "$VAR/secret_key")"
fi
export CITYGRID_SECRET_KEY CITYGRID_DEBUG="${CITYGRID_DEBUG:-0}"
export CITYGRID_ALLOW_DEMO_USERS="${CITYGRID_ALLOW_DEMO_USERS:-1}"

"$ROOT/scripts/services.sh" start
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py demo_city --if-empty --seed "${CITYGRID_DEMO_SEED:-1}" --scale "${CITYGRID_DEMO_SCALE:-1}"
"$PY" manage.py demo_accounts --print || true
# The demo city's case history, through the case actions (the first run only; about a minute).
"$PY" manage.py demo_cases --if-empty || log "demo cases not generated (see the error above)"
# The public map's convenience points (toilets, car parks, supermarkets…) from the demo layers.
"$PY" manage.py demo_convenience --if-empty || log "no convenience points loaded (see the error above)"
"$PY" manage.py demo_tracking --print || true
# Comprehensive evaluation: the sample library from the demo city's roads, parks, toilets... and
# this year's demo round (draws, inspections, fillings, results; a played round is kept).
"$PY" manage.py demo_evaluation -v 0 || log "no demo evaluation (see the error above)"
# The category recommendation's model, when there is none yet (a few seconds; beat retrains it
# nightly): cases.recommend.
"$PY" manage.py train_recommend --if-missing || log "no recommendation model trained (see the error above)"

# The worker opens uploaded files with GDAL: as root, run it as an unprivileged user.
prepare_worker_user
"${AS_WORKER[@]}" "$VENV/bin/celery" -A web worker -l warning --concurrency 2 -n "citygrid@%h" &
pids+=($!)
"$VENV/bin/celery" -A web beat -l warning -s "$VAR/celerybeat-schedule" &
pids+=($!)
log "serving on http://127.0.0.1:${CITYGRID_PORT:-8000}/  (map: /map, API docs: /api/v1/docs)"
# Server settings (workers, worker class, keep-alive, the 8190-byte request line, the hooks that
# load the gazetteer in the master before it forks) are in web/gunicorn.conf.py; see
# docs/operations.md "The web server".
"$VENV/bin/gunicorn" web.wsgi:application -c web/gunicorn.conf.py &
pids+=($!)
# Live streams (SSE) on an event loop of their own, so an open stream holds no web thread
# (core/streams.py); pages on the web port reach it on the next port.
STREAM_PORT="${CITYGRID_STREAM_PORT:-$((${CITYGRID_PORT:-8000} + 1))}"
"$VENV/bin/uvicorn" web.asgi:application --host 127.0.0.1 --port "$STREAM_PORT" \
  --no-access-log --log-level warning --timeout-graceful-shutdown 2 &
pids+=($!)
# The demo simulator (tracking/simulator.py): once the web server answers, the demo phones and
# vehicles post a fix every 10 s through the ingest API, so /inspectors is alive and alarms
# happen. CITYGRID_SIMULATOR=0 leaves it out.
if [ "${CITYGRID_SIMULATOR:-1}" = 1 ]; then
  (
    web="http://127.0.0.1:${CITYGRID_PORT:-8000}"
    for _ in $(seq 300); do curl -fsS "$web/api/v1/health" -o /dev/null 2>/dev/null && break; sleep 1; done
    exec "$PY" manage.py simulate_tracking --url "$web" --interval 10 --keep-running -v 0
  ) &
  pids+=($!)
fi
wait -n "${pids[@]}"
