"""Open311 output in its two formats, by the spec's mechanical mapping (XML first, JSON mirrors it).

A root whose children repeat becomes a JSON array (`services`, `service_requests`, `errors`); a
single-object root becomes an object (`service_definition`, `discovery`); nested lists keep their
XML wrapper name in JSON. Content types carry no charset: JSON is UTF-8 by definition, XML says so in
its declaration, and the validators clients use compare the type for exact equality.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml", "json": "application/json"}
# Nested list name → the tag of each element inside it.
LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C date-time with its zone, in the city's local time (e.g. 2026-04-15T09:30:00+08:00)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# Characters XML 1.0 cannot carry at all (control codes pasted into a description): dropped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        child = ET.SubElement(parent, key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            tag = LIST_ITEMS.get(key, "item")
            for entry in value:
                item = ET.SubElement(child, tag)
                if isinstance(entry, Mapping):
                    _fill(item, entry)
                else:
                    item.text = _text(entry)
        else:
            child.text = _text(value)


def to_xml(root: str, data: Mapping[str, Any] | Iterable[Mapping[str, Any]], item: str | None = None) -> bytes:
    element = ET.Element(root)
    if item is None:
        _fill(element, data)  # type: ignore[arg-type]
    else:
        for entry in data:
            _fill(ET.SubElement(element, item), entry)  # type: ignore[arg-type]
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode("utf-8")


def respond(fmt: str, root: str, data: Any, *, item: str | None = None, status: int = 200) -> HttpResponse:
    """`data` is a list of objects when `item` names the repeated element, else one object."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8") if fmt == "json" else to_xml(root, data, item)
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(fmt, "text/xml"))
    # FixMyStreet's server does the same: browsers may read public Open311 data from any origin.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def error_response(fmt: str, status: int, errors: list[tuple[int | str, str]]) -> HttpResponse:
    """The spec's error document: a list of {code, description}, with the HTTP status that matters."""
    rows = [{"code": code, "description": description} for code, description in errors]
    return respond(fmt if fmt in FORMATS else "xml", "errors", rows, item="error", status=status)
