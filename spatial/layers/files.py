"""Gives safe local copies of uploaded files: bounded size, zip entries checked, nothing written
outside `settings.UPLOAD_DIR`, and what a file's bytes say it is (`sniff`), whatever its name."""

from __future__ import annotations

import re
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
# How much of a file `sniff` reads to tell what it is.
SNIFF_BYTES = 64 * 1024
# Zip members refused by name: a GDAL VRT opens whatever files or URLs it names.
REFUSED_MEMBER_SUFFIXES = (".vrt",)
# What `sniff` calls a GDAL virtual dataset (an XML document that names other datasets).
VRT_KINDS = ("xml:ogrvrtdatasource", "xml:vrtdataset")
# GDAL's virtual file systems (/vsicurl/, /vsizip/, ...): in a path or in a file's text, they
# would make GDAL read other files or fetch URLs. Also as UTF-16, which XML may be written in.
VSI_MARKERS = tuple("/vsi".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))
_XML_MISC = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
_XML_TAG = re.compile(rb"\s*<(!DOCTYPE|[A-Za-z_][\w.:-]*)")


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
    elif base.lower().startswith("vsi"):  # no path component that GDAL could take for /vsi…/
        base = "upload-" + base
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

    Refuses entries with absolute paths, drive letters or `..`, symlinks, GDAL VRTs (by name
    or content), more than MAX_ZIP_ENTRIES entries, and archives whose uncompressed total
    exceeds the bound.
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
    _check_extracted(dest)
    return dest


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise BadInput(f"zip entry has an unsafe path: {info.filename!r}", field="file")
    mode = info.external_attr >> 16
    if mode and (mode & 0o170000) == 0o120000:
        raise BadInput(f"zip entry is a symbolic link: {info.filename!r}", field="file")
    if name.lower().endswith(REFUSED_MEMBER_SUFFIXES):
        raise BadInput(
            f"zip entry {info.filename!r} is a GDAL VRT, which can read other files; refused",
            field="file",
        )


def _check_extracted(dest: Path) -> None:
    """Refuses an extracted tree holding a link, anything outside `dest` or a VRT by content."""
    for path in dest.rglob("*"):
        if path.is_symlink() or not inside(dest, path):
            raise BadInput(f"zip entry is a link: {path.relative_to(dest)}", field="file")
        if path.is_file() and is_vrt(sniff(path)):
            raise BadInput(
                f"zip entry {str(path.relative_to(dest))!r} is a GDAL VRT document, which can "
                "read other files; refused",
                field="file",
            )


def sniff(path: Path) -> str:
    """Gives what a file's first bytes say it is, whatever its name: "empty", "zip", "sqlite",
    "shape" (a .shp or .shx), "osm-pbf", "json", "xml:<root element>", "xml-doctype", "text"
    or "binary"."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"\x00\x00\x27\x0a"):  # the Shapefile file code, 9994
        return "shape"
    if b"OSMHeader" in head[4:32]:  # a PBF file opens with its OSMHeader blob's header
        return "osm-pbf"
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(codec, "replace").encode()
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        return "json"
    if text[:1] == b"<":
        return _xml_kind(text)
    return "binary" if b"\x00" in head else "text"


def _xml_kind(text: bytes) -> str:
    pos = 0
    while match := _XML_MISC.match(text, pos):
        pos = match.end()
    tag = _XML_TAG.match(text, pos)
    if tag is None:
        return "text"
    name = tag.group(1).decode("ascii")
    if name == "!DOCTYPE":
        return "xml-doctype"
    return "xml:" + name.rsplit(":", 1)[-1]


def is_vrt(kind: str) -> bool:
    """Whether a `sniff` result is a GDAL VRT document (GDAL matches its root in any case)."""
    return kind.lower() in VRT_KINDS


def describe_kind(kind: str) -> str:
    """Gives the words for a `sniff` result, for messages."""
    if is_vrt(kind):
        return f"a GDAL VRT document (XML <{kind[4:]}>), which can read other files"
    if kind.startswith("xml:"):
        return f"XML with root element <{kind[4:]}>"
    return {
        "empty": "empty",
        "zip": "a zip archive",
        "sqlite": "an SQLite database",
        "shape": "Shapefile geometry",
        "osm-pbf": "OSM PBF",
        "json": "JSON",
        "xml-doctype": "XML with a DOCTYPE (entity) declaration",
        "text": "plain text",
    }.get(kind, "binary data")


def refers_to_vsi(path: Path) -> bool:
    """Whether a text file mentions a GDAL virtual file system path (/vsicurl/, /vsizip/, ...)."""
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            window = (tail + chunk).lower()
            if any(marker in window for marker in VSI_MARKERS):
                return True
            tail = window[-8:]
    return False


def remove_work_dir(work_dir: Path) -> None:
    """Deletes one import's work directory (only ever inside the upload root)."""
    if inside(upload_root(), work_dir) and work_dir != upload_root():
        shutil.rmtree(work_dir, ignore_errors=True)


def receive(source, name: str | None) -> tuple[Path, Path]:
    """Gives (path, work dir) of `source` (an uploaded file object, or a local path when
    `name` is None) copied into a new work directory of its own; nothing is left on failure."""
    work_dir = new_work_dir()
    try:
        if isinstance(source, (str, Path)):
            return copy_into(Path(source), work_dir), work_dir
        return save_upload(source, name, work_dir), work_dir
    except Exception:
        remove_work_dir(work_dir)
        raise
