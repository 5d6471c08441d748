"""The fault suite's stack, to break at will: a throwaway PostgreSQL 15 cluster with PostGIS
and a redis-server (temp dir, spare ports), the project migrated into it, a gunicorn web
process, a Celery worker and the reaper (`core.jobs.reap_jobs`), all subprocesses with short
job-recovery settings. The project's shared PostgreSQL and Redis are never touched.

Run with ``scripts/test.sh -m faults tests/faults`` (the default run deselects the marker)."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from .services import PG_BIN, ROOT, Postgres, Redis, Service, spare_port, wait_for

VENV_BIN = Path(os.environ.get("CITYGRID_VENV", ROOT / ".venv")) / "bin"
# Job recovery made short enough to watch (web/settings.py reads these).
RECOVERY = {
    "CITYGRID_JOB_STALE_AFTER_S": "6",
    "CITYGRID_JOB_HEARTBEAT_S": "1",
    "CITYGRID_JOB_SEND_GRACE_S": "2",
    "CITYGRID_JOB_MAX_ATTEMPTS": "2",
}
# The reaper as beat runs it (`core.reap_jobs`), but every second, in a process of its own that
# outlives the outages: a failed run closes its connections and the next one tries again.
REAPER = """
import time
from django.db import connections
from core.jobs import reap_jobs
while True:
    try:
        counts = reap_jobs()
        if any(counts.values()):
            print("reaped", counts, flush=True)
    except Exception as exc:
        print("reaper failed:", exc, flush=True)
        connections.close_all()
    time.sleep(1)
"""
# Points in the generated import file: enough for an import of several seconds.
POINTS = 300_000
SMALL = 1_000
FINAL = ("succeeded", "failed")
ADMIN, PASSWORD = "faultadmin", "Fault-tests-2026!"
# Variables of the project's own services, which must not reach the fault stack.
SHARED_VARS = ("DATABASE_URL", "REDIS_URL", "CITYGRID_PG_SOCKET_DIR", "CITYGRID_PG_PORT")


def json_answer(response: requests.Response) -> dict:
    """Gives the body of an HTTP answer after checking it is JSON, never an HTML page."""
    kind = response.headers.get("Content-Type", "")
    assert kind.startswith("application/json"), (
        f"{response.request.method} {response.url} answered {response.status_code} "
        f"{kind!r}: {response.text[:300]!r}"
    )
    return response.json()


@dataclass
class Stack:
    """The running fault stack and what a scenario does with it."""

    folder: Path
    postgres: Postgres
    redis: Redis
    env: dict
    upload_dir: Path
    web: Service
    worker: Service
    reaper: Service
    base_url: str
    points_file: Path
    small_file: Path
    token: str = ""

    # --- processes -----------------------------------------------------------------------
    def manage(self, *args: str, timeout: float = 120) -> str:
        """Runs ``manage.py`` with the stack's environment; gives its stdout."""
        done = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done.stdout

    def start_worker(self) -> None:
        """Starts a Celery worker and waits until it consumes."""
        mark = self.worker.log_size()
        self.worker.start()
        wait_for(
            lambda: "ready." in self.worker.log_since(mark),
            60,
            f"celery worker to be ready\n{self.worker.log_tail()}",
        )

    def start_web(self) -> None:
        """Starts the web process (gunicorn) and waits until it answers."""
        self.web.start()
        wait_for(lambda: _answers(self.base_url), 60, f"gunicorn\n{self.web.log_tail()}")

    def restart_web(self) -> None:
        self.web.kill(signal.SIGTERM)
        self.start_web()

    # --- HTTP ----------------------------------------------------------------------------
    def get(self, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.get(self.base_url + path, headers=headers, timeout=30, **kwargs)

    def start_upload(self, key: str) -> socket.socket:
        """Opens an import POST of the points file and sends only half of its body (a client
        still uploading); gives the open connection."""
        data, boundary = self.points_file.read_bytes(), uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n{key}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{self.points_file.name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        length = len(head) + len(data) + len(f"\r\n--{boundary}--\r\n")
        host, port = self.base_url.removeprefix("http://").split(":")
        conn = socket.create_connection((host, int(port)), timeout=30)
        conn.sendall(
            f"POST /api/v1/layers/import HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {length}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode()
        )
        conn.sendall(head + data[: len(data) // 2])
        return conn

    def post_import(self, key: str, small: bool = False) -> requests.Response:
        """Posts the generated points file (of `POINTS` rows, or `SMALL` when `small`) as the
        managed layer `key`."""
        path = self.small_file if small else self.points_file
        with open(path, "rb") as fh:
            return requests.post(
                self.base_url + "/api/v1/layers/import",
                headers={"Authorization": f"Bearer {self.token}"},
                files={"file": (path.name, fh, "text/csv")},
                data={"key": key, "x": "lon", "y": "lat"},
                timeout=60,
            )

    def job(self, job_id: str) -> dict:
        response = self.get(f"/api/v1/jobs/{job_id}")
        body = json_answer(response)
        assert response.status_code == 200, body
        return body

    def wait_running(self, job_id: str, with_staging: bool = True, timeout: float = 60) -> dict:
        """Waits until the job is running (and, when `with_staging`, writing its staging
        table, so a fault hits it mid-write); gives the job."""

        def mid_flight():
            job = self.job(job_id)
            assert job["state"] not in FINAL, f"the job ended before the fault: {job}"
            if job["state"] != "running":
                return None
            return job if not with_staging or self.postgres.staging_tables() else None

        return wait_for(mid_flight, timeout, f"job {job_id} to be mid-import", every=0.1)

    def wait_until(self, check, what: str, timeout: float = 90):
        """Gives check()'s first true value, polling while the reaper runs; fails naming
        `what`, with the ends of the worker's and the reaper's logs."""
        deadline = time.monotonic() + timeout
        while not (value := check()):
            assert time.monotonic() < deadline, (
                f"{what}: not within {timeout:.0f} s\nworker log:\n{self.worker.log_tail()}"
                f"\nreaper log:\n{self.reaper.log_tail(10)}"
            )
            time.sleep(0.3)
        return value

    def settle(self, job_id: str, timeout: float = 90) -> dict:
        """Gives the job once it is succeeded or failed."""

        def final():
            job = self.job(job_id)
            return job if job["state"] in FINAL else None

        return self.wait_until(final, f"job {job_id} to end ({self.postgres.job(job_id)})", timeout)

    def uploads_left(self) -> list[str]:
        """Gives the files and import directories left under the upload directory."""
        return sorted(
            str(path.relative_to(self.upload_dir))
            for path in self.upload_dir.rglob("*")
            if path.is_file() or path.name.startswith("import-")
        )

    def assert_settled(self, job: dict) -> None:
        """The job ended with a report or well-formed errors, and nothing is left behind."""
        assert job["state"] in FINAL, job
        if job["state"] == "failed":
            assert job["errors"], job
            for error in job["errors"]:
                assert set(error) == {"code", "message", "field"}, error
                assert error["code"] and error["message"], error
        else:
            assert job["report"]["rows_written"] in (POINTS, SMALL), job["report"]
        assert self.postgres.staging_tables() == []
        assert self.uploads_left() == []


def write_points(path: Path, n: int) -> None:
    """Writes a CSV of `n` points around the city centre with a few columns."""
    rng = random.Random(7)
    lon0, lat0 = settings.CITY_CENTER
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["code", "name", "kind", "depth", "lon", "lat"])
        for i in range(n):
            out.writerow(
                [
                    f"MH{i:07d}",
                    f"井盖{i}",
                    ("rain", "sewer", "power", "gas")[i % 4],
                    round(rng.uniform(0.5, 6.0), 2),
                    round(lon0 + rng.uniform(-0.2, 0.2), 6),
                    round(lat0 + rng.uniform(-0.15, 0.15), 6),
                ]
            )


def _environment(postgres: Postgres, redis: Redis, folder: Path, upload_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SHARED_VARS}
    name = f"faults-{uuid.uuid4().hex[:8]}"
    env.update(
        RECOVERY,
        DJANGO_SETTINGS_MODULE="web.settings",
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url,
        CITYGRID_CELERY_QUEUE=name,
        CITYGRID_CACHE_PREFIX=name,
        CITYGRID_EVENTS_PREFIX=name,
        CITYGRID_UPLOAD_DIR=str(upload_dir),
        CITYGRID_VAR=str(folder / "var"),
        CITYGRID_DEBUG="0",
        CITYGRID_SECRET_KEY=uuid.uuid4().hex * 2,
        CITYGRID_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="package")
def stack():
    """Gives the running fault stack; stops every process it started, removes its files."""
    for tool, path in (
        ("initdb", PG_BIN / "initdb"),
        ("redis-server", shutil.which("redis-server")),
    ):
        if not path or not Path(path).exists():
            pytest.skip(f"the fault suite needs {tool} (PostgreSQL 15 server, redis-server)")
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode:
        pytest.skip("the fault suite runs PostgreSQL as the postgres OS user, which is missing")
    share = subprocess.run(
        [str(PG_BIN / "pg_config"), "--sharedir"], capture_output=True, text=True
    ).stdout.strip()
    if not (Path(share) / "extension" / "postgis.control").exists():
        pytest.skip(f"the fault suite needs PostGIS for PostgreSQL in {PG_BIN}")
    # Under /tmp: a short path (a Unix socket path has at most 107 bytes) that the postgres OS
    # user can reach (a private TMPDIR may not be).
    folder = Path(tempfile.mkdtemp(prefix="citygrid-faults-", dir="/tmp"))
    folder.chmod(0o755)
    postgres, redis = Postgres(folder / "pg"), Redis(folder / "redis")
    upload_dir = folder / "uploads"
    env = _environment(postgres, redis, folder, upload_dir)
    port = spare_port()
    web = Service(
        "web",
        [
            str(VENV_BIN / "gunicorn"), "web.wsgi:application", "-b", f"127.0.0.1:{port}",
            "-w", "1", "--threads", "4", "--timeout", "120", "--log-level", "warning",
        ],
        env, folder,
    )  # fmt: skip
    worker = Service(
        "worker",
        [
            str(VENV_BIN / "celery"), "-A", "web", "worker", "--pool", "prefork", "-c", "1",
            "-l", "info", "--without-gossip", "--without-mingle", "-n", f"faults-{port}@%h",
        ],
        env, folder,
    )  # fmt: skip
    reaper = Service(
        "reaper", [str(VENV_BIN / "python"), "manage.py", "shell", "-c", REAPER], env, folder
    )
    built = Stack(
        folder, postgres, redis, env, upload_dir, web, worker, reaper,
        f"http://127.0.0.1:{port}", folder / "manholes.csv", folder / "hydrants.csv",
    )  # fmt: skip
    try:
        postgres.create()
        redis.start()
        write_points(built.points_file, POINTS)
        write_points(built.small_file, SMALL)
        built.manage("migrate", "--noinput", "-v", "0", timeout=300)
        built.manage(
            "shell", "-c",
            "from accounts.services import create_person; "
            f"create_person({ADMIN!r}, {PASSWORD!r}, is_superuser=True, validate=False)",
        )  # fmt: skip
        built.start_web()
        built.start_worker()
        reaper.start()
        response = requests.post(
            built.base_url + "/api/v1/auth/token",
            json={"username": ADMIN, "password": PASSWORD},
            timeout=30,
        )
        built.token = json_answer(response)["token"]
        yield built
    finally:
        reaper.kill(signal.SIGKILL)
        web.kill(signal.SIGTERM)
        worker.kill(signal.SIGKILL)
        redis.stop()
        postgres.remove()
        if os.environ.get("CITYGRID_FAULTS_KEEP"):
            print(f"\nfault stack kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _answers(base_url: str) -> bool:
    try:
        return requests.get(base_url + "/api/v1/health", timeout=5).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture
def fault_stack(stack):
    """The stack with every service up at the start and at the end of a test (a test that
    broke one repairs it itself; this repairs it when the test failed first)."""
    yield stack
    if not (stack.postgres.data / "postmaster.pid").exists():
        stack.postgres.start()
    if stack.redis.process is None or stack.redis.process.poll() is not None:
        stack.redis.start()
    if not stack.worker.running():
        stack.start_worker()
    if not stack.web.running():
        stack.start_web()
    if not stack.reaper.running():
        stack.reaper.start()


_TIMINGS: dict[str, float] = {}


@pytest.fixture
def timings() -> dict[str, float]:
    """Seconds a scenario measured, printed at the end of the run."""
    return _TIMINGS


def pytest_terminal_summary(terminalreporter):
    if _TIMINGS:
        terminalreporter.section("fault timings")
        for name, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")
