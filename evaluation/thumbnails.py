"""Photo thumbnails (缩略图) for the wall screen's and the supervision page's lists: a case's
photo scaled to fit `SIZE`, as JPEG, made once and kept under ``MEDIA_ROOT/thumbnails``.

A list of 40 cases shows 40 thumbnails of a few kB each instead of the phone photos (often
several MB). The caller must see the case (`cases.visibility`); the same 404 for a photo that
does not exist and one of a case outside the caller's areas.
"""

from __future__ import annotations

import io
import os

from django.conf import settings

from accounts.scoping import Scope
from cases import visibility
from core.errors import NotFound

SIZE = (240, 180)


def thumbnail(scope: Scope, case_id, media_id) -> bytes:
    """Gives the JPEG thumbnail of one of the case's photos."""
    from PIL import Image, UnidentifiedImageError

    case = visibility.get_visible(scope, case_id)
    media = case.media.filter(pk=media_id, content_type__startswith="image/").first()
    if media is None:
        raise NotFound(f"no photo {media_id} on case {case.number}")
    folder = settings.MEDIA_ROOT / "thumbnails"
    path = folder / f"{media.pk}-{SIZE[0]}x{SIZE[1]}.jpg"
    if path.exists():
        return path.read_bytes()
    try:
        with media.file.open("rb") as fh, Image.open(fh) as picture:
            picture.thumbnail(SIZE)
            data = io.BytesIO()
            picture.convert("RGB").save(data, "JPEG", quality=78)
    except (OSError, UnidentifiedImageError, ValueError):
        raise NotFound(f"photo {media_id} of case {case.number} cannot be read") from None
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data.getvalue())
    partial.replace(path)  # atomic: a reader sees the whole file or none
    return data.getvalue()
