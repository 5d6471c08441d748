#!/usr/bin/env bash
# Installs what the project needs and is missing: Debian packages, the Python venv, npm packages.
# Idempotent and quick when everything is already there.
set -euo pipefail
source "$(dirname "$0")/env.sh"

APT_PACKAGES=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting gdal-bin redis-server nodejs npm
              chromium fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # node/npm may come from elsewhere on the machine: only install Debian's when no node exists.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "pip: installing the project into $VENV"
  if [ ! -x "$VENV/bin/python" ]; then
    # Debian's own python3 needs python3-venv (ensurepip) to make a venv.
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      log "apt: installing python3-venv"
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    fi
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "$ROOT[dev]"
  rm -f "$VENV"/.installed-*; touch "$stamp"
fi

if [ -f "$ROOT/package.json" ]; then
  nstamp="$ROOT/node_modules/.installed-$(cat "$ROOT/package.json" "$ROOT/package-lock.json" 2>/dev/null | sha1sum | cut -c1-12)"
  if [ ! -f "$nstamp" ]; then
    log "npm: installing web map packages"
    (cd "$ROOT" && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
    rm -f "$ROOT"/node_modules/.installed-*; touch "$nstamp"
  fi
fi
