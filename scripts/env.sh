# Shared settings for the set-up scripts: where the project-local services live.
# Sourced, never run. Every value can be overridden from the environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${CITYGRID_VAR:-$ROOT/var}"
VENV="${CITYGRID_VENV:-$ROOT/.venv}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DATA="$VAR/postgres/data"
PG_SOCKET_DIR="$VAR/postgres/run"
PG_LOG="$VAR/postgres/log/postgres.log"
PG_PORT="${CITYGRID_PG_PORT:-54329}"
PG_DB="${CITYGRID_PG_DB:-citygrid}"
PG_USER="citygrid"
REDIS_PORT="${CITYGRID_REDIS_PORT:-63799}"
REDIS_DIR="$VAR/redis"
export CITYGRID_PG_SOCKET_DIR="$PG_SOCKET_DIR" CITYGRID_PG_PORT="$PG_PORT" CITYGRID_PG_DB="$PG_DB"
export CITYGRID_REDIS_PORT="$REDIS_PORT"
log() { printf '\033[1;34m[citygrid]\033[0m %s\n' "$*" >&2; }
