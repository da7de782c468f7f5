"""Free text people type (titles, reasons, notes): trimmed, without control characters, within its column.

Services call `clean_text` where a too-long text is refused (the person should shorten it) and
`capped_text` where a longer one is silently cut (an address or a note that only needs to fit).
Control characters other than newline and tab are dropped: PostgreSQL refuses NUL, and the rest
only ever arrive by pasting.

`nul_field` is the one place a NUL byte is refused before any view reads it (the middleware
`core.middleware.RefuseNulMiddleware` calls it for every request): the path, the query, a form's fields
and a JSON body. A NUL in a text that reached PostgreSQL used to answer 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import ValidationFailed


def _plain(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch in "\n\t" or ord(ch) >= 32).strip()


def clean_text(
    value: Any,
    *,
    field: str,
    limit: int,
    label: Any,
    required: bool = False,
) -> str:
    """The trimmed text; `ValidationFailed` on `field` when required and empty (`required`) or too long (`too_long`).

    `label` names the thing as a translation (`gettext_lazy("description")`), so the message comes from the
    catalogue in both languages.
    """
    text = _plain(value)
    if required and not text:
        raise ValidationFailed(_("%(label)s is required"), params={"label": label}, field=field, code="required")
    if len(text) > limit:
        raise ValidationFailed(
            _("%(label)s is longer than %(limit)s characters"),
            params={"label": label, "limit": limit},
            field=field,
            code="too_long",
        )
    return text


NUL = "\x00"


def _nul_in_json(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if NUL in str(key):
                return name
            found = _nul_in_json(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_in_json(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None


def nul_field(request: Any) -> str | None:
    """The first field of `request` holding a NUL character ("path", a parameter's name, a JSON key path), or None.

    Uploaded files are not looked at (they are bytes); a JSON body is parsed only when it holds a NUL.
    """
    if NUL in request.path:
        return "path"
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in v for v in values):
            return str(key).replace(NUL, "")
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH"):
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, values in request.POST.lists():
                if NUL in key or any(NUL in v for v in values):
                    return str(key).replace(NUL, "")
        elif "json" in content_type:
            body = request.body
            if b"\\u0000" not in body and b"\x00" not in body:
                return None
            try:
                data = json.loads(body)
            except ValueError:
                return "body" if b"\x00" in body else None
            found = _nul_in_json(data, "")
            return None if found is None else (found or "body")
    return None


def nul_refused(field: str) -> ValidationFailed:
    """The refusal of a NUL character in `field` (one message, both languages)."""
    return ValidationFailed(
        _("%(field)s contains a NUL character, which no text may hold"),
        params={"field": field},
        field=field,
        code="nul_character",
    )


def capped_text(value: Any, limit: int) -> str:
    """The trimmed text cut to `limit` characters (for fields where a longer text is not worth refusing)."""
    return _plain(value)[:limit]


class Listed:
    """Names listed the way the language being rendered lists them (、 in Chinese, ", " in English).

    A parameter of a one-message error: `render_both` turns it into text once per language.
    """

    def __init__(self, items: Iterable[Any], separator: Any = None) -> None:
        self.items = list(items)
        self.separator = separator if separator is not None else pgettext_lazy("list separator", ", ")

    def __str__(self) -> str:
        return str(self.separator).join(str(item) for item in self.items)


class Said:
    """A text already written in both languages (a `FieldProblem`'s), rendered in the active one."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        return self.en if (translation.get_language() or "").startswith("en") else self.zh
