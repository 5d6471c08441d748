#!/usr/bin/env bash
# `make test`: the same set-up as `make run` (its own test database), then pytest.
# Services this script started are stopped again at the end; running ones are left alone.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
was_running=0
if [ -f "$PG_DATA/postmaster.pid" ] && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  was_running=1
fi
"$ROOT/scripts/services.sh" start
[ "$was_running" = 1 ] || trap '"$ROOT/scripts/services.sh" stop' EXIT
"$VENV/bin/python" manage.py collectstatic --noinput -v 0
"$VENV/bin/python" -m pytest "$@"
