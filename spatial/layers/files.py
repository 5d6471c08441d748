"""Gives safe local copies of uploaded files: bounded size, zip entries checked, nothing written
outside `settings.UPLOAD_DIR`."""

from __future__ import annotations

import shutil
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from django.conf import settings

from core.errors import BadInput, TooLarge

# A zip may expand to at most this many times the upload limit (zip-bomb bound).
MAX_EXPANSION = 4
MAX_ZIP_ENTRIES = 10_000
CHUNK = 1024 * 1024


def upload_root() -> Path:
    """Gives the upload directory, created if missing."""
    root = Path(settings.UPLOAD_DIR).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def ensure_spool_dir() -> None:
    """Creates the directory Django spools large request bodies into (FILE_UPLOAD_TEMP_DIR)."""
    spool = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    if spool:
        Path(spool).mkdir(parents=True, exist_ok=True)


def new_work_dir() -> Path:
    """Gives a fresh directory under the upload root for one import."""
    path = upload_root() / f"import-{uuid.uuid4().hex}"
    path.mkdir()
    return path


def inside(root: Path, candidate: Path) -> bool:
    """Whether `candidate` resolves to a path inside `root`."""
    try:
        candidate.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def safe_name(name: str) -> str:
    """Gives a plain file name (no directories) for an uploaded file's name."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isalnum() or c in "._-") or "upload"
    if base.startswith("."):
        base = "upload" + base
    return base[:120]


def save_upload(fileobj, name: str, work_dir: Path, limit: int | None = None) -> Path:
    """Gives the path of `fileobj` copied into `work_dir`, refusing more than `limit` bytes."""
    limit = settings.MAX_UPLOAD_BYTES if limit is None else limit
    size = getattr(fileobj, "size", None)
    if size is not None and size > limit:
        raise TooLarge(f"upload is {size} bytes; the limit is {limit} bytes", field="file")
    target = work_dir / safe_name(name)
    if not inside(upload_root(), target):
        raise BadInput("upload path escapes the upload directory", field="file")
    written = 0
    with open(target, "wb") as out:
        chunks = (
            fileobj.chunks(CHUNK)
            if hasattr(fileobj, "chunks")
            else iter(lambda: fileobj.read(CHUNK), b"")
        )
        for chunk in chunks:
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise TooLarge(f"upload is larger than the limit of {limit} bytes", field="file")
            out.write(chunk)
    return target


def copy_into(source: Path, work_dir: Path) -> Path:
    """Gives a copy of a local file inside `work_dir` (the command's path into the same checks)."""
    source = Path(source)
    if not source.is_file():
        raise BadInput(f"no such file: {source}", field="file")
    with open(source, "rb") as fh:
        return save_upload(fh, source.name, work_dir, limit=settings.MAX_UPLOAD_BYTES)


def extract_zip(archive: Path, work_dir: Path) -> Path:
    """Gives the directory a zip archive was safely extracted into.

    Refuses entries with absolute paths, drive letters or `..`, symlinks, more than
    MAX_ZIP_ENTRIES entries, and archives whose uncompressed total exceeds the bound.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(f"not a readable zip archive: {exc}", field="file") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise BadInput(f"zip has {len(infos)} entries; at most {MAX_ZIP_ENTRIES}", field="file")
        bound = settings.MAX_UPLOAD_BYTES * MAX_EXPANSION
        total = sum(i.file_size for i in infos)
        if total > bound:
            raise TooLarge(
                f"zip expands to {total} bytes; at most {bound} bytes are accepted", field="file"
            )
        dest = work_dir / "unzipped"
        dest.mkdir(exist_ok=True)
        for info in infos:
            _check_entry(info)
        written = 0
        for info in infos:
            if info.is_dir():
                continue
            target = dest / info.filename
            if not inside(dest, target):
                raise BadInput(f"zip entry escapes the archive: {info.filename!r}", field="file")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > bound:
                            raise TooLarge("zip expands beyond the accepted size", field="file")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise BadInput(f"corrupt zip entry {info.filename!r}: {exc}", field="file") from exc
    return dest


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise BadInput(f"zip entry has an unsafe path: {info.filename!r}", field="file")
    mode = info.external_attr >> 16
    if mode and (mode & 0o170000) == 0o120000:
        raise BadInput(f"zip entry is a symbolic link: {info.filename!r}", field="file")


def remove_work_dir(work_dir: Path) -> None:
    """Deletes one import's work directory (only ever inside the upload root)."""
    if inside(upload_root(), work_dir) and work_dir != upload_root():
        shutil.rmtree(work_dir, ignore_errors=True)
