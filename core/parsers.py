"""The request body parser every API view uses (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import JSONParser


class JsonBody(JSONParser):
    """JSON, refused with a clear 400 when any key or text holds NUL (``\\u0000``): PostgreSQL
    text and jsonb cannot hold it, and the operation log stores the body's keys, so such a body
    would otherwise fail at the database with no field named."""

    def parse(self, stream, media_type=None, parser_context=None):
        # Imported here: DRF loads this class while core.errors (which imports DRF) loads.
        from core.errors import BadInput

        data = super().parse(stream, media_type, parser_context)
        path = _nul_at(data)
        if path is not None:
            raise BadInput("the body contains a NUL character (\\u0000)", field=path or None)
        return data


def _nul_at(value: Any, path: str = "") -> str | None:
    """Gives the top-level key under which `value` holds NUL ("" for the body itself), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = path or str(key)
            if "\x00" in str(key):
                return here.replace("\x00", "")
            found = _nul_at(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        return next((p for p in (_nul_at(item, path) for item in value) if p is not None), None)
    return None
