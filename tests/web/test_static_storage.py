"""The static files storage (web/static_storage.py): gzip and Brotli copies of collected files,
made again only for files changed since their copies were written."""

from __future__ import annotations

import gzip
import os

from web.static_storage import ChangedFilesCompressedStorage


def compressed(storage, names) -> list[str]:
    return sorted(n for _, n, _ in storage.post_process(dict.fromkeys(names, None)))


def test_only_changed_files_are_compressed_again(tmp_path):
    storage = ChangedFilesCompressedStorage(location=str(tmp_path), base_url="/static/")
    script = "var x = '" + "城管通" * 400 + "';\n"
    (tmp_path / "app.js").write_text(script, encoding="utf-8")
    (tmp_path / "other.js").write_text("var y = '" + "y" * 2000 + "';\n", encoding="utf-8")
    assert not (tmp_path / "app.js.gz").exists()

    first = compressed(storage, ["app.js", "other.js"])
    assert first == ["app.js.br", "app.js.gz", "other.js.br", "other.js.gz"]
    assert gzip.decompress((tmp_path / "app.js.gz").read_bytes()).decode() == script

    assert compressed(storage, ["app.js", "other.js"]) == []  # nothing changed

    changed = "var x = '" + "上报" * 400 + "';\n"
    (tmp_path / "app.js").write_text(changed, encoding="utf-8")
    later = (tmp_path / "app.js.gz").stat().st_mtime + 5
    os.utime(tmp_path / "app.js", (later, later))  # as collectstatic's newer copy
    assert compressed(storage, ["app.js", "other.js"]) == ["app.js.br", "app.js.gz"]
    assert gzip.decompress((tmp_path / "app.js.gz").read_bytes()).decode() == changed
