# Sourced by run.sh: the Celery worker, which opens uploaded files with GDAL, runs as an
# unprivileged user ($CITYGRID_WORKER_USER, default citygrid-worker) when `make run` is started
# by root, so a file that tricks GDAL can read only what that user can. Sourced, never run.
#
# prepare_worker_user sets AS_WORKER, the command prefix that starts the worker as that user
# (empty: the worker keeps the caller's user), and umask 0002 so that the web server (root) and
# the worker can both write in the upload directory, whose group is the worker's.
WORKER_USER="${CITYGRID_WORKER_USER:-citygrid-worker}"
AS_WORKER=()

prepare_worker_user() {
  local uploads="${CITYGRID_UPLOAD_DIR:-$VAR/uploads}" home="$VAR/worker-home"
  [ "$(id -u)" = 0 ] || return 0 # not root: the worker runs as the caller, as everything else
  if [ "$WORKER_USER" = root ]; then
    log "worker: runs as root (CITYGRID_WORKER_USER=root)"
    return 0
  fi
  if ! command -v setpriv >/dev/null; then
    log "worker: WARNING: setpriv (util-linux) is missing; the worker runs as root"
    return 0
  fi
  if ! id -u "$WORKER_USER" >/dev/null 2>&1; then
    log "worker: creating the system user $WORKER_USER"
    useradd --system --user-group --no-create-home --home-dir "$home" \
      --shell /usr/sbin/nologin "$WORKER_USER" || true
  fi
  local prefix=(setpriv --reuid="$WORKER_USER" --regid="$WORKER_USER" --init-groups
    --no-new-privs env HOME="$home")
  if id -u "$WORKER_USER" >/dev/null 2>&1; then
    umask 0002
    mkdir -p "$uploads" "$home"
    chown "$WORKER_USER:$WORKER_USER" "$home" && chmod 0700 "$home"
    # The web server saves uploads and the worker unpacks and removes them: one group, kept
    # on new directories (setgid) and writable under umask 0002.
    chgrp -R "$WORKER_USER" "$uploads" && chmod -R g+rwX "$uploads" &&
      find "$uploads" -type d -exec chmod g+s {} + || true
    # Beat's nightly training (cases.recommend) writes the next model version here.
    local models="${CITYGRID_CASES_RECOMMEND_DIR:-$VAR/recommend}"
    mkdir -p "$models"
    chgrp -R "$WORKER_USER" "$models" && chmod -R g+rwX "$models" && chmod g+s "$models" || true
    open_path_for_worker "$ROOT" "$VENV" "$uploads" "$home" \
      "$(dirname "$(readlink -f "$VENV/bin/python")")"
    if "${prefix[@]}" test -w "$uploads" && "${prefix[@]}" "$VENV/bin/python" -c \
      "import web.settings, celery, pyogrio, geopandas" 2>/dev/null; then
      AS_WORKER=("${prefix[@]}")
      log "worker: runs as $WORKER_USER (uploads in $uploads, group $WORKER_USER)"
      return 0
    fi
  fi
  umask 0022
  log "worker: WARNING: $WORKER_USER cannot import the project or write $uploads; the worker runs as root"
}

open_path_for_worker() {
  # The worker user must be able to traverse down to each directory (a clone, or the venv's
  # interpreter, may sit under a 0700 home), as services.sh does for postgres.
  local d
  for d in "$@"; do
    while [ "$d" != "/" ]; do
      setpriv --reuid="$WORKER_USER" --regid="$WORKER_USER" --init-groups test -x "$d" \
        2>/dev/null || chmod o+x "$d" 2>/dev/null || true
      d="$(dirname "$d")"
    done
  done
}
