"""Static files storage: WhiteNoise's compressed storage, compressing only what changed.

`collectstatic` runs at every `make run` start (scripts/run.sh). WhiteNoise compresses every
collected file each time (22 s of CPU for gzip and Brotli of MapLibre's builds and Redoc);
collectstatic itself copies only files newer than the collected copy, so a file whose gzip or
Brotli copy is at least as new as it is unchanged and is left as it is (bench/README.md,
"Static files compressed")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whitenoise.storage import CompressedStaticFilesStorage


class ChangedFilesCompressedStorage(CompressedStaticFilesStorage):
    """Compresses the collected files whose compressed copies are missing or older."""

    def post_process(self, paths: dict[str, Any], dry_run: bool = False, **options: Any):
        changed = {path: found for path, found in paths.items() if not self._compressed(path)}
        yield from super().post_process(changed, dry_run=dry_run, **options)

    def _compressed(self, path: str) -> bool:
        collected = Path(self.path(path))
        try:
            written = collected.stat().st_mtime
        except FileNotFoundError:
            return False
        for suffix in (".br", ".gz"):
            copy = collected.with_name(collected.name + suffix)
            if copy.exists() and copy.stat().st_mtime >= written:
                return True
        return False
