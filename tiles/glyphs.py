"""Glyph PBFs (字形) for map labels, made from the local font files: `/fonts/{stack}/{range}.pbf`.

MapLibre draws text from signed distance fields (SDF) of 256-code-point ranges, fetched from
the style's `glyphs` URL. We make them as node-fontnik and MapLibre's TinySDF do: each glyph
rendered by FreeType at 24 px, then a signed distance field over it with a 3-px buffer, radius
8 and cutoff 0.25 (the edge is byte 191, where MapLibre's shader draws it), one byte a pixel.
Metrics: `left` and `top` of the bitmap (`top` from the face's ascender, like fontnik),
`advance` in whole pixels. The message (Mapbox `glyphs.proto`) is encoded by hand below.

A range is made once per font files' version and kept under `settings.GLYPHS_DIR`; a stack
("A,B") takes each glyph from the first of its fonts that has it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

from core.errors import BadInput, NotFound

SIZE = 24  # px: the size MapLibre scales every glyph from
BUFFER = 3  # px of field around each bitmap (MapLibre's GLYPH_PBF_BORDER)
RADIUS = 8.0
CUTOFF = 0.25
RANGE_SIZE = 256
MAX_CODE_POINT = 65535
MAX_STACK_CHARS = 256
# Bumped when the output changes, so the disk cache of older ranges is not served.
ALGORITHM = "sdf-1"

_RANGE_RE = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_INF = 1e20
_lock = threading.Lock()  # FreeType faces are not safe across threads


@dataclass(frozen=True)
class Glyph:
    """One glyph of a range: its SDF bitmap ((width + 6) × (height + 6) bytes) and metrics."""

    id: int
    bitmap: bytes
    width: int
    height: int
    left: int
    top: int
    advance: int


# ---- the glyphs protobuf ----------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _glyph_message(g: Glyph) -> bytes:
    out = _field_varint(1, g.id)
    if g.bitmap:
        out += _field_bytes(2, g.bitmap)
    out += _field_varint(3, g.width) + _field_varint(4, g.height)
    out += _field_varint(5, _zigzag(g.left)) + _field_varint(6, _zigzag(g.top))
    return out + _field_varint(7, g.advance)


def encode(stack: str, start: int, end: int, glyphs: list[Glyph]) -> bytes:
    """Gives the `glyphs { stacks { name, range, glyphs* } }` message of one range."""
    fontstack = _field_bytes(1, stack.encode()) + _field_bytes(2, f"{start}-{end}".encode())
    fontstack += b"".join(_field_bytes(3, _glyph_message(g)) for g in glyphs)
    return _field_bytes(1, fontstack)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes):
    """Yields (field number, value) of a message: ints for varints, bytes for the rest."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        else:
            raise ValueError(f"unexpected wire type {wire}")
        yield number, value


def _unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def decode(data: bytes) -> list[dict]:
    """Gives the stacks of a glyphs message: [{name, range, glyphs: [Glyph]}] (for tests and
    checks; MapLibre has its own reader)."""
    stacks = []
    for number, value in _fields(data):
        if number != 1:
            continue
        stack: dict = {"name": "", "range": "", "glyphs": []}
        for n, v in _fields(value):
            if n == 1:
                stack["name"] = v.decode()
            elif n == 2:
                stack["range"] = v.decode()
            elif n == 3:
                g = {"id": 0, "bitmap": b"", "width": 0, "height": 0, "left": 0, "top": 0}
                names = {1: "id", 2: "bitmap", 3: "width", 4: "height", 7: "advance"}
                for gn, gv in _fields(v):
                    if gn in (5, 6):
                        g["left" if gn == 5 else "top"] = _unzigzag(gv)
                    elif gn in names:
                        g[names[gn]] = bytes(gv) if gn == 2 else gv
                stack["glyphs"].append(Glyph(**{"advance": 0, **g}))
        stacks.append(stack)
    return stacks


# ---- the signed distance field --------------------------------------------------------------


def _squared_edt(grid: np.ndarray) -> np.ndarray:
    """Gives min over every pixel q of grid[q] + |p - q|² for each pixel p (exact, separable:
    columns then rows, like TinySDF's Felzenszwalb pass, by brute force over a small grid)."""
    h, w = grid.shape
    ys = np.arange(h, dtype=np.float64)
    xs = np.arange(w, dtype=np.float64)
    cols = (grid[None, :, :] + ((ys[:, None] - ys[None, :]) ** 2)[:, :, None]).min(axis=1)
    return (cols[:, None, :] + ((xs[:, None] - xs[None, :]) ** 2)[None, :, :]).min(axis=2)


def sdf(alpha: np.ndarray) -> np.ndarray:
    """Gives the SDF bytes (uint8, buffer added on every side) of a coverage bitmap (0..255).

    As TinySDF: fully covered pixels are inside, empty ones outside, partly covered ones sit
    at 0.5 - coverage from the edge; byte = 255 - 255 × (distance / radius + cutoff).
    """
    h, w = alpha.shape
    a = alpha.astype(np.float64) / 255.0
    outer = np.full((h + 2 * BUFFER, w + 2 * BUFFER), _INF)
    inner = np.zeros_like(outer)
    box = (slice(BUFFER, BUFFER + h), slice(BUFFER, BUFFER + w))
    d = 0.5 - a
    outer[box] = np.where(a == 0, _INF, np.where(a == 1, 0.0, np.where(d > 0, d * d, 0.0)))
    inner[box] = np.where(a == 0, 0.0, np.where(a == 1, _INF, np.where(d < 0, d * d, 0.0)))
    outer = _squared_edt(outer)
    if h and w:
        inner[box] = _squared_edt(inner[box])
    dist = np.sqrt(outer) - np.sqrt(inner)
    return np.clip(np.round(255 - 255 * (dist / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)


# ---- fonts --------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _faces(files: tuple[str, ...]) -> dict:
    """Gives {"family style": freetype.Face} for every face of the font files that exist."""
    import freetype

    faces: dict = {}
    for path in files:
        if not os.path.exists(path):
            continue
        count = freetype.Face(path).num_faces
        for index in range(count):
            face = freetype.Face(path, index)
            name = face.family_name.decode(errors="replace")
            if face.style_name:
                name += " " + face.style_name.decode(errors="replace")
            face.set_char_size(SIZE * 64)
            faces.setdefault(name, face)
    return faces


def faces() -> dict:
    """Gives the served font faces by stack name."""
    return _faces(tuple(settings.GLYPH_FONT_FILES))


def font_names() -> list[str]:
    """Gives the names of the fonts a style may put in `text-font`."""
    return sorted(faces())


def _version() -> str:
    parts = [ALGORITHM]
    for path in settings.GLYPH_FONT_FILES:
        if os.path.exists(path):
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def render(face, code_point: int) -> Glyph | None:
    """Gives the glyph of one code point in a face, or None when the face has none."""
    import freetype

    if face.get_char_index(code_point) == 0:
        return None
    flags = freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_BITMAP | freetype.FT_LOAD_NO_HINTING
    face.load_char(code_point, flags)
    slot = face.glyph
    bitmap = slot.bitmap
    advance = int(round(slot.advance.x / 64))
    ascender = face.size.ascender / 64
    if bitmap.width == 0 or bitmap.rows == 0:
        return Glyph(code_point, b"", 0, 0, 0, 0, advance)
    rows = np.array(bitmap.buffer, dtype=np.uint8).reshape(bitmap.rows, bitmap.pitch)
    alpha = rows[:, : bitmap.width]
    return Glyph(
        id=code_point,
        bitmap=sdf(alpha).tobytes(),
        width=bitmap.width,
        height=bitmap.rows,
        left=slot.bitmap_left,
        top=int(round(slot.bitmap_top - ascender)),
        advance=advance,
    )


# ---- ranges -------------------------------------------------------------------------------------


def parse_range(text: str) -> tuple[int, int]:
    """Gives (start, end) of a range name such as "256-511"; 400 unless it is one of the
    256-aligned ranges 0-255 … 65280-65535."""
    m = _RANGE_RE.match(text)
    if not m:
        raise BadInput(f"a glyph range is start-end, not {text[:20]!r}", field="range")
    start, end = int(m[1]), int(m[2])
    if start % RANGE_SIZE or end != start + RANGE_SIZE - 1 or end > MAX_CODE_POINT:
        raise BadInput(
            f"a glyph range is 256 code points from a multiple of 256 up to 65535, not {text}",
            field="range",
        )
    return start, end


def stack_faces(stack: str) -> list:
    """Gives the faces of a comma-separated font stack; 404 for a font not served."""
    names = [n.strip() for n in stack.split(",")]
    known = faces()
    if len(stack) > MAX_STACK_CHARS or not all(names):
        raise NotFound("no such font stack", field="fontstack")
    for name in names:
        if name not in known:
            served = ", ".join(sorted(known)) or "none"
            raise NotFound(f"no such font: {name[:80]!r}; served: {served}", field="fontstack")
    return [known[n] for n in names]


def build(stack: str, start: int, end: int) -> bytes:
    """Gives the encoded range of a stack, made from the fonts now."""
    stack_list = stack_faces(stack)
    glyphs = []
    with _lock:
        for code_point in range(start, end + 1):
            for face in stack_list:
                glyph = render(face, code_point)
                if glyph is not None:
                    glyphs.append(glyph)
                    break
    return encode(stack, start, end, glyphs)


def cache_path(stack: str, start: int, end: int) -> tuple[Path, str]:
    """Gives the disk cache file of a range and its ETag (both change with the fonts)."""
    version = _version()
    key = hashlib.sha256(f"{version}|{stack}".encode()).hexdigest()[:24]
    return Path(settings.GLYPHS_DIR) / key / f"{start}-{end}.pbf", f"{key}-{start}"


def glyph_range(stack: str, range_text: str) -> tuple[bytes, str]:
    """Gives (PBF bytes, ETag) of a range of a stack, from the disk cache or made and kept."""
    start, end = parse_range(range_text)
    stack_faces(stack)
    path, etag = cache_path(stack, start, end)
    try:
        return path.read_bytes(), etag
    except FileNotFoundError:
        pass
    data = build(stack, start, end)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return data, etag
