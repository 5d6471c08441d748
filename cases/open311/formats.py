"""Open311's two formats: JSON and XML (XML is mandatory in GeoReport v2), answers and errors.

An answer is built once as plain data (dicts, lists, strings, numbers, booleans, None) and
rendered in the format the path's extension asks for. In XML a list is written as repeated
elements named by `ITEM_NAMES` (``services`` → ``service``…), None as an empty element,
booleans as ``true``/``false``.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from core.errors import ApiError

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "keywords": "keyword",
    "history": "step",
    "before": "url",
    "after": "url",
}


# Characters XML 1.0 cannot hold (controls but tab, newline and return; lone surrogates; U+FFFE
# and U+FFFF): dropped from text, so a description with a stray control character still gives a
# document every parser reads.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value, name: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner, key)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        for inner in value:
            _fill(ET.SubElement(element, item), inner, item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    """`value` as an XML document whose root element is `root`."""
    element = ET.Element(root)
    _fill(element, value, root)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    """The answer in `fmt`: JSON as is, XML under the element `root`."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """An Open311 error: ``[{"code", "description"}]`` or ``<errors><error>…``."""
    return render(fmt, "errors", [{"code": status, "description": description}], status)


def api_error(fmt: str, exc: ApiError) -> HttpResponse:
    """An `ApiError` as an Open311 error; a refused report (409) is Open311's 400."""
    status = 400 if exc.status == 409 else exc.status
    description = f"{exc.field}: {exc.message}" if exc.field else exc.message
    response = error(fmt, status, description)
    if exc.status == 429:
        response["Retry-After"] = "3600"
    return response
