"""Static files compressed (web/settings.py STORAGES): what the field app's shell weighs plain,
gzip and Brotli as WhiteNoise serves it, and what the compression costs collectstatic (run at
every `make run`), against plain StaticFilesStorage collecting the same files in the same run.

    .venv/bin/python bench/static_compression.py

Collects into temporary directories (not web/staticfiles), so it disturbs no running server.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from web.pages import FIELD_SHELL_FILES  # noqa: E402


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def collect(backend: str, root: str) -> tuple[float, float]:
    """Gives (wall seconds, CPU seconds) of a full collectstatic with `backend` into `root`,
    in a child process (the storage is made once per process)."""
    started, started_cpu = time.perf_counter(), cpu()
    subprocess.run([sys.executable, __file__, "--collect", backend, root], check=True)
    return time.perf_counter() - started, cpu() - started_cpu


def collect_here(backend: str, root: str) -> None:
    settings.STATIC_ROOT = root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": backend}}
    call_command("collectstatic", "--noinput", "-v", "0")


def main() -> None:
    with tempfile.TemporaryDirectory() as plain, tempfile.TemporaryDirectory() as packed:
        plain_time = collect("django.contrib.staticfiles.storage.StaticFilesStorage", plain)
        packed_time = collect("whitenoise.storage.CompressedStaticFilesStorage", packed)
        # the project's storage, collecting into a directory collected before (a second start)
        again_time = collect("web.static_storage.ChangedFilesCompressedStorage", packed)
        print(f"load average {os.getloadavg()[0]:.1f}")
        print(f"collectstatic plain:      {plain_time[0]:6.1f} s wall {plain_time[1]:6.1f} s CPU")
        print(f"collectstatic compressed: {packed_time[0]:6.1f} s wall {packed_time[1]:6.1f} s CPU")
        print(f"  again, changed only:    {again_time[0]:6.1f} s wall {again_time[1]:6.1f} s CPU")
        print(f"{'file':32} {'plain':>10} {'gzip':>10} {'br':>10}")
        totals = [0, 0, 0]
        for name in FIELD_SHELL_FILES:
            base = Path(packed) / name
            sizes = [
                base.stat().st_size,
                *(
                    (base.with_name(base.name + ext).stat().st_size)
                    if base.with_name(base.name + ext).exists()
                    else base.stat().st_size
                    for ext in (".gz", ".br")
                ),
            ]
            totals = [t + s for t, s in zip(totals, sizes, strict=True)]
            print(f"{name:32} {sizes[0]:>10,} {sizes[1]:>10,} {sizes[2]:>10,}")
        print(f"{'the shell':32} {totals[0]:>10,} {totals[1]:>10,} {totals[2]:>10,}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--collect"]:
        collect_here(sys.argv[2], sys.argv[3])
    else:
        main()
