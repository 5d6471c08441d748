#!/usr/bin/env bash
# `make test`: the same set-up as `make run` (its own test database), then pytest.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/services.sh" start
exec "$VENV/bin/python" -m pytest "$@"
