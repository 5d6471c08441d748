#!/usr/bin/env bash
# Starts (start) or stops (stop) the project-local PostGIS cluster and Redis.
# Skips either when DATABASE_URL / REDIS_URL point at external services.
set -euo pipefail
source "$(dirname "$0")/env.sh"
PGRUN() { runuser -u postgres -- "$@"; }

open_path_for_postgres() {
  # The postgres OS user must be able to traverse down to $VAR (a temp clone may be 0700).
  local d="$VAR"
  while [ "$d" != "/" ]; do
    runuser -u postgres -- test -x "$d" 2>/dev/null || chmod o+x "$d" 2>/dev/null || true
    d="$(dirname "$d")"
  done
}

start_postgres() {
  [ -n "${DATABASE_URL:-}" ] && { log "postgres: using DATABASE_URL"; return; }
  mkdir -p "$VAR/postgres"/{run,log}
  chown -R postgres:postgres "$VAR/postgres"
  open_path_for_postgres
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "postgres: creating the cluster in $PG_DATA"
    PGRUN "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PG_DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_SOCKET_DIR'
port = $PG_PORT
shared_buffers = 1GB
work_mem = 32MB
maintenance_work_mem = 512MB
effective_cache_size = 8GB
random_page_cost = 1.1
jit = off
fsync = on
synchronous_commit = off
max_connections = 200
CONF
  fi
  if ! PGRUN "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "postgres: starting on socket $PG_SOCKET_DIR port $PG_PORT"
    PGRUN "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null || {
      tail -n 20 "$PG_LOG" >&2; exit 1; }
  fi
  local psql=(psql -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  if [ -z "$("${psql[@]}" -d postgres -c "select 1 from pg_roles where rolname='$PG_USER'")" ]; then
    "${psql[@]}" -d postgres -c "create role $PG_USER login superuser"
  fi
  if [ -z "$("${psql[@]}" -d postgres -c "select 1 from pg_database where datname='$PG_DB'")" ]; then
    log "postgres: creating database $PG_DB"
    "${psql[@]}" -d postgres -c "create database $PG_DB owner $PG_USER"
  fi
  "${psql[@]}" -d "$PG_DB" -c "create extension if not exists postgis"
}

start_redis() {
  [ -n "${REDIS_URL:-}" ] && { log "redis: using REDIS_URL"; return; }
  mkdir -p "$REDIS_DIR"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
  log "redis: starting on port $REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  log "redis: did not start"; tail -n 20 "$REDIS_DIR/redis.log" >&2; exit 1
}

stop_all() {
  if [ -z "${REDIS_URL:-}" ]; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  if [ -z "${DATABASE_URL:-}" ] && [ -f "$PG_DATA/PG_VERSION" ]; then
    PGRUN "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
