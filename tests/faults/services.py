"""Throwaway services for the fault suite, each a subprocess it can stop, kill and start
again: a PostgreSQL 15 cluster (run as the postgres OS user when we are root, as services.sh
does), a redis-server, and long-running processes (web, worker) in process groups of their
own."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def spare_port() -> int:
    """Gives a local TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what: str, every: float = 0.2):
    """Gives check()'s first true value, polling until `timeout` seconds; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def as_postgres(*command: str) -> list[str]:
    """Gives `command` run as the postgres OS user (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Postgres:
    """A PostgreSQL 15 cluster of the suite's own: data dir and Unix socket under `folder`."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.db = folder, spare_port(), "citygrid_faults"
        self.data, self.run, self.log = folder / "data", folder / "run", folder / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgis://citygrid@{quote(str(self.run), safe='')}:{self.port}/{self.db}"

    def create(self) -> None:
        self.folder.mkdir(parents=True)
        self.run.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.run, "postgres", "postgres")
        subprocess.run(
            as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = ''\nunix_socket_directories = '{self.run}'\n"
                f"port = {self.port}\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\nshared_buffers = 128MB\nmax_connections = 60\n"
            )
        self.start()
        self.sql("postgres", "CREATE ROLE citygrid LOGIN SUPERUSER")
        self.sql("postgres", f"CREATE DATABASE {self.db} OWNER citygrid")
        self.sql(self.db, "CREATE EXTENSION postgis")

    def pg_ctl(self, *args: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args]
        subprocess.run(as_postgres(*command), check=True, capture_output=True, timeout=90)

    def start(self) -> None:
        self.pg_ctl("-t", "60", "start")

    def stop(self) -> None:
        """Stops the cluster as an outage would: open sessions are cut (fast mode)."""
        self.pg_ctl("-m", "fast", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-m", "immediate", "stop")

    def sql(self, db: str, statement: str, params=()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(
            host=str(self.run), port=self.port, user="postgres", dbname=db, connect_timeout=5
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def staging_tables(self) -> list[str]:
        """Gives the import staging tables (``layers.*__new_*``) in the database."""
        rows = self.sql(
            self.db,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'layers' "
            "AND tablename LIKE %s ORDER BY 1",
            ["%\\_\\_new\\_%"],
        )
        return [name for (name,) in rows]

    def job(self, job_id: str) -> dict:
        """Gives the job row's recovery columns, read directly."""
        rows = self.sql(
            self.db,
            "SELECT state, attempts, dispatched_at IS NOT NULL, leftovers FROM web_job "
            "WHERE id = %s",
            [job_id],
        )
        state, attempts, dispatched, leftovers = rows[0]
        return {
            "state": state,
            "attempts": attempts,
            "dispatched": dispatched,
            "leftovers": leftovers,
        }


class Redis:
    """A redis-server of the suite's own on a spare port, without persistence."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, spare_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        log = open(self.folder / "redis.log", "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Service:
    """A long-running subprocess (web, worker) in a process group of its own, logged to a
    file, so a test can kill it and everything it forked at once."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name, self.command, self.env, self.log_dir = name, command, env, log_dir
        self.process: subprocess.Popen | None = None
        self.log_path = log_dir / f"{name}.log"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` to the whole process group (a prefork worker's children too)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
