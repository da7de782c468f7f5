"""Free text people type (titles, reasons, notes): trimmed, without control characters, within its column.

Services call `clean_text` where a too-long text is refused (the person should shorten it) and
`capped_text` where a longer one is silently cut (an address or a note that only needs to fit).
Control characters other than newline and tab are dropped: PostgreSQL refuses NUL, and the rest
only ever arrive by pasting.
"""

from __future__ import annotations

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
