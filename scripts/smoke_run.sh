#!/usr/bin/env bash
# CI: prove the first `make run` of this checkout works. Starts it on spare ports, waits for
# /api/v1/health to answer, fetches /map, then stops it with Ctrl-C (SIGINT) as a person would.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
export CITYGRID_PORT="${CITYGRID_SMOKE_PORT:-18080}"
export CITYGRID_REDIS_PORT="${CITYGRID_SMOKE_REDIS_PORT:-63899}"
url="http://127.0.0.1:$CITYGRID_PORT"
out="$VAR/smoke-run.log"
mkdir -p "$VAR"
setsid make run >"$out" 2>&1 &
leader=$!
stop() {
  kill -INT -- "-$leader" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$leader" 2>/dev/null || return 0; sleep 1; done
  log "make run did not stop within 60 s"; kill -KILL -- "-$leader" 2>/dev/null || true
  return 1
}
fail() { log "$1"; tail -n 40 "$out" >&2; stop || true; exit 1; }
deadline=$((SECONDS + ${CITYGRID_SMOKE_TIMEOUT:-900}))
until curl -fsS "$url/api/v1/health" -o "$VAR/smoke-health.json" 2>/dev/null; do
  kill -0 "$leader" 2>/dev/null || fail "make run exited before serving"
  [ $SECONDS -lt $deadline ] || fail "no health answer within the timeout"
  sleep 2
done
grep -q '"database"' "$VAR/smoke-health.json" || fail "health answered without the database part"
curl -fsS "$url/map" | grep -q "maplibre" || fail "/map did not serve the map page"
stream="http://127.0.0.1:$((CITYGRID_PORT + 1))/api/v1/cases/stream"
code=$(curl -s -o /dev/null -w '%{http_code}' "$stream" || true)
[ "$code" = 401 ] || fail "the stream server did not answer an anonymous stream with 401 ($code)"
log "make run served health, /map and the stream server on $url"
stop
log "make run stopped"
