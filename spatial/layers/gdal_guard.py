"""Gives pyogrio's GDAL restricted for reading uploads: only the drivers CityGrid reads and
writes stay registered, GDAL makes no network request, and each upload is checked (path,
content, driver) before and as GDAL opens it.

GDAL picks a driver from a file's content, not its name, and some drivers follow what a file
names: an OGR VRT uploaded as ``x.geojson`` opens ``/etc/passwd`` or ``/vsicurl/http://…``, and
a plain GeoJSON with a linked CRS (``"crs": {"type": "link", …}``) makes GDAL fetch that URL.
So `readers` asks here, before GDAL sees an upload, that its path is a plain file in the
import's work directory and its bytes are what its format names (`check_path`,
`check_content`), then that GDAL opened it with that format's driver (`check_driver`).
`restrict_gdal` is the wall behind those checks; it changes the whole process's pyogrio GDAL
(rasterio has its own copy, untouched).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import re
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote


from core.errors import BadInput

from .files import describe_kind, inside, refers_to_vsi, sniff, upload_root

log = logging.getLogger(__name__)

# The drivers that stay registered: those `readers` opens uploads with and those `export`
# writes (GeoJSON, GPKG, ESRI Shapefile). Every other driver is unloaded (GDAL_SKIP), so no
# file can reach OGR_VRT, GDALG, GPSBabel, SQLite, the HTTP/WFS/OAPIF/… drivers or any other.
# CSV is read by pandas, not GDAL, so GDAL's CSV driver goes too.
KEPT_DRIVERS = frozenset({"ESRI Shapefile", "GeoJSON", "GPKG", "KML", "LIBKML", "OSM"})

# GDAL configuration that keeps it off the network. /vsicurl/ and its kin (/vsis3/, …) open
# only this impossible file name; CPLHTTPFetch (the HTTP driver, GeoJSON linked CRSs, …) goes
# through a proxy that does not exist, fails at once and never retries. A NO_PROXY variable
# bypasses the proxy, so `_refuse_http_fetches` also replaces CPLHTTPFetch itself.
NO_NETWORK = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/citygrid-imports-use-no-network",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".citygrid-imports-use-no-network",
    "GDAL_HTTP_PROXY": "http://127.0.0.1:1",
    "GDAL_HTTPS_PROXY": "http://127.0.0.1:1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "CPL_ALLOW_VSISTDIN": "NO",
}

FORMAT_LABELS = {
    "shapefile": "a Shapefile",
    "geojson": "GeoJSON",
    "gpkg": "a GeoPackage",
    "kml": "KML",
    "csv": "CSV",
    "osm": "OSM",
}
# What each format's bytes must be (`files.sniff`, by suffix where a format has two forms)
# before GDAL or pandas opens the file: GDAL picks its driver from the content, not the name.
FORMAT_CONTENT = {
    "shapefile": {".zip": ("zip",), "": ("shape",)},
    "geojson": {"": ("json",)},
    "gpkg": {"": ("sqlite",)},
    "kml": {"": ("xml:kml",)},
    "csv": {"": ("text",)},
    "osm": {".pbf": ("osm-pbf",), "": ("xml:osm",)},
}
# The GDAL drivers each format may be read with (all in KEPT_DRIVERS).
FORMAT_DRIVERS = {
    "shapefile": ("ESRI Shapefile",),
    "geojson": ("GeoJSON",),
    "gpkg": ("GPKG",),
    "kml": ("LIBKML", "KML"),
    "osm": ("OSM",),
}

# In a GeoPackage's schema: the virtual tables GPKG itself uses (its spatial index), and words
# that would make SQLite under GDAL reach other files or load code (GDAL refuses them today; a
# GeoPackage that holds them is not one CityGrid needs to read).
GPKG_VIRTUAL_MODULES = ("rtree",)
GPKG_REFUSED_WORDS = re.compile(r"virtualogr|ogr_datasource_load_layers|load_extension|/vsi", re.I)
_VIRTUAL_TABLE = re.compile(r"create\s+virtual\s+table\s+.*?\busing\s+(\w+)", re.I | re.S)

_lock = threading.Lock()
_done = False
_refused = threading.local()
_gdal: ctypes.CDLL | None = None
CURLE_COULDNT_CONNECT = 7


class _HTTPResult(ctypes.Structure):
    """GDAL's CPLHTTPResult (cpl_http.h), the answer a fetch callback gives."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


# CPLHTTPFetchCallbackFunc: (url, options, progress, progress_arg, write, write_arg, user_data)
_FETCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)


def restrict_gdal() -> None:
    """Unloads every GDAL driver but KEPT_DRIVERS and turns GDAL's network access off (once per
    process; call before any upload is opened)."""
    import pyogrio

    global _done
    with _lock:
        if _done:
            return
        skipped = sorted(set(pyogrio.list_drivers()) - KEPT_DRIVERS)
        # Commas, because "MapInfo File" has a space; GDAL_SKIP is applied when drivers are
        # registered, so register again (already registered drivers are kept as they are).
        pyogrio.set_gdal_config_options({**NO_NETWORK, "GDAL_SKIP": ",".join(skipped)})
        # pyogrio's own (private) call of GDALAllRegister; the content and driver checks
        # still hold if a later pyogrio drops it.
        from pyogrio import _ogr

        register = getattr(_ogr, "_register_drivers", None)
        if register is not None:
            register()
        left = set(pyogrio.list_drivers()) - KEPT_DRIVERS
        if left:
            log.warning("GDAL drivers still registered after GDAL_SKIP: %s", sorted(left))
        if not _refuse_http_fetches():
            log.warning("cannot replace GDAL's HTTP client; relying on configuration only")
        _done = True


def refused_fetches() -> list[str]:
    """Gives (and forgets) the URLs GDAL tried to fetch in this thread since the last call."""
    urls = getattr(_refused, "urls", [])
    _refused.urls = []
    return urls


@_FETCH_CALLBACK
def _refuse_fetch(url, *_args):
    """Answers every CPLHTTPFetch with a failed result (GDAL frees it with its own allocator;
    a null answer would make GDAL fetch the URL after all)."""
    text = (url or b"").decode("utf-8", "replace")
    log.warning("GDAL tried to fetch %s while reading an upload; refused", text)
    _refused.urls = [*getattr(_refused, "urls", []), text]
    result = _gdal.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
    answer = _HTTPResult.from_address(result)
    answer.nStatus = CURLE_COULDNT_CONNECT
    answer.pszErrBuf = _gdal.CPLStrdup(b"network access is off while reading uploads")
    return result


def _refuse_http_fetches() -> bool:
    """Points CPLHTTPFetch of pyogrio's GDAL at `_refuse_fetch`; gives whether it could."""
    library = _pyogrio_gdal_library()
    if library is None:
        return False
    global _gdal
    try:
        gdal = ctypes.CDLL(str(library))  # the copy already loaded: dlopen gives its handle
        gdal.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
        gdal.CPLCalloc.restype = ctypes.c_void_p
        gdal.CPLStrdup.argtypes = [ctypes.c_char_p]
        gdal.CPLStrdup.restype = ctypes.c_void_p
        gdal.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]
        gdal.CPLHTTPSetFetchCallback.restype = None
        _gdal = gdal
        gdal.CPLHTTPSetFetchCallback(_refuse_fetch, None)
    except (OSError, AttributeError) as exc:
        log.warning("cannot set GDAL's HTTP fetch callback: %s", exc)
        return False
    return True


def _pyogrio_gdal_library() -> str | None:
    """Gives the GDAL library pyogrio uses: the copy bundled in its wheel, else the system's."""
    import pyogrio

    bundled = Path(pyogrio.__file__).resolve().parent.parent / "pyogrio.libs"
    found = sorted(bundled.glob("libgdal*.so*")) if bundled.is_dir() else []
    if found:
        return str(found[0])
    return ctypes.util.find_library("gdal")


def check_path(path: Path, work_dir: Path) -> None:
    """Refuses a path GDAL could take for something else than the uploaded file: outside the
    import's work directory, a link, or with a part starting like /vsi…/."""
    relative = path.parts[len(work_dir.parts) :] if path.is_relative_to(work_dir) else ()
    if (
        not path.is_absolute()
        or not relative
        or not inside(upload_root(), work_dir)
        or not inside(work_dir, path)
        or any(part.lower().startswith("vsi") for part in relative)
        or str(path).lower().startswith("/vsi")
    ):
        raise BadInput(f"refused file path {str(path)!r}", field="file")
    if path.is_symlink() or not path.is_file():
        raise BadInput(f"{path.name} is not a plain file", field="file")


def check_content(path: Path, fmt: str) -> None:
    """Refuses a file whose bytes are not what its format names, or whose text mentions a
    GDAL virtual file system path (/vsicurl/, /vsizip/, ...)."""
    kind = sniff(path)
    by_suffix = FORMAT_CONTENT[fmt]
    expected = by_suffix.get(path.suffix.lower(), by_suffix[""])
    if kind.lower() not in expected:
        raise BadInput(
            f"{path.name} should be {FORMAT_LABELS[fmt]} but its content is "
            f"{describe_kind(kind)}; refused",
            field="file",
        )
    if kind in ("json", "text") or kind.startswith("xml:"):
        if refers_to_vsi(path):
            raise BadInput(
                f"{path.name} mentions a GDAL virtual file path (/vsi...), which could read "
                "other files or the network; refused",
                field="file",
            )
    if kind == "sqlite":
        check_geopackage(path)


def check_geopackage(path: Path) -> None:
    """Refuses a GeoPackage whose schema holds a virtual table other than its spatial index,
    or SQL that names GDAL's VirtualOGR, a /vsi path or extension loading."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    try:
        with sqlite3.connect(uri, uri=True) as db:
            schema = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
            entries = schema.fetchall()
    except sqlite3.Error as exc:
        raise BadInput(f"{path.name} is not a readable GeoPackage: {exc}", field="file") from exc
    for name, sql in entries:
        virtual = _VIRTUAL_TABLE.search(sql)
        if (virtual and virtual.group(1).lower() not in GPKG_VIRTUAL_MODULES) or (
            GPKG_REFUSED_WORDS.search(sql)
        ):
            raise BadInput(
                f"the GeoPackage's {name!r} is defined by SQL that could read other files "
                "or run code; refused",
                field="file",
            )


def check_driver(path: Path, fmt: str, layer: str | None = None) -> None:
    """Refuses a file GDAL opens with another driver than those of its format."""
    import pyogrio

    try:
        driver = pyogrio.read_info(path, layer=layer)["driver"]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadInput(f"cannot read {path.name}: {first}", field="file") from exc
    if driver not in FORMAT_DRIVERS[fmt]:
        raise BadInput(
            f"{path.name} should be {FORMAT_LABELS[fmt]} but GDAL reads it as {driver}; refused",
            field="file",
        )


def refuse_fetches() -> None:
    """Refuses the file just read if GDAL tried to fetch a URL while reading it."""
    urls = refused_fetches()
    if urls:
        raise BadInput(
            f"the file asks GDAL to fetch {urls[0]}; imports never use the network", "file"
        )
