"""What an uploaded file is, by its first bytes: a file is what its bytes say, not what it
claims. Case media (`cases.api`) and clock-in photos (`tracking.attendance_api`) take files only
through `checked_type`."""

from __future__ import annotations

import mimetypes

from django.core.files.uploadedfile import UploadedFile

from .errors import BadInput

# The first bytes of each type a project upload may be.
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "video/mp4": (b"ftyp",),
    "video/quicktime": (b"ftyp", b"moov", b"wide", b"mdat"),
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "audio/mp4": (b"ftyp",),
    "audio/amr": (b"#!AMR",),
    "audio/wav": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
# Documents proving a permission (a construction permit: a scan or a PDF).
DOCUMENT_TYPES = PHOTO_TYPES | {"application/pdf"}


def declared_type(upload: UploadedFile) -> str:
    """Gives the type the upload claims: its content type, else the one its name suggests."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if not declared or declared == "application/octet-stream":
        declared = mimetypes.guess_type(upload.name or "")[0] or ""
    return declared


def content_matches(upload: UploadedFile, declared: str) -> bool:
    """Whether the upload's first bytes are those of `declared` (a key of `MAGIC`)."""
    head = upload.read(16)
    upload.seek(0)
    offset_4 = head[4:8]  # ISO media files carry their box name after a 4-byte size
    return any(head.startswith(m) or offset_4 == m for m in MAGIC[declared])


def checked_type(upload: UploadedFile, accepted: frozenset[str], field: str, what: str) -> str:
    """Gives the upload's content type when it is one of `accepted` and its bytes agree;
    `BadInput` naming `field` otherwise (`what` says what is accepted, for the message)."""
    declared = declared_type(upload)
    if declared not in accepted:
        raise BadInput(f"{declared or 'this file type'} is not accepted: {what}", field=field)
    if not content_matches(upload, declared):
        raise BadInput(f"the file's content is not {declared}", field=field)
    return declared
