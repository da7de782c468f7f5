"""Errors that speak to people: a code, a message in Chinese and English, and where it happened.

Services raise these; pages show `str(error)` (Chinese first), the API returns `as_dict()`, and
importers collect many `FieldProblem`s before refusing a file (`FieldProblem.of(_("…"), {...}, code=...)`
for one translatable message).

New code passes one translatable message (`gettext_lazy`, msgid in English) and its parameters:
`ValidationFailed(_("%(field)s is required"), params={...}, field="title")`; both languages are
rendered from the catalogue, so the error text lives in the same `.po` file as the rest of the UI.
The older form, a Chinese and an English string side by side, still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import translation

#: The languages every error is rendered in: the API's `message` and `message_en`.
ERROR_LANGUAGES = ("zh-hans", "en")


def render_both(message: Any, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """`message` (a lazy translation or a msgid) rendered in Chinese and in English, `%`-filled with params.

    Parameters that are themselves lazy translations (a state's label) are rendered in the same language.
    """
    rendered: list[str] = []
    for language in ERROR_LANGUAGES:
        with translation.override(language):
            text = str(message) if not isinstance(message, str) else translation.gettext(message)
            if params:
                text = text % {key: str(value) for key, value in params.items()}
        rendered.append(text)
    return rendered[0], rendered[1]


@dataclass
class FieldProblem:
    """One thing wrong with one field, or with one cell of an imported file."""

    code: str
    zh: str
    en: str
    field: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    @classmethod
    def of(
        cls,
        message: Any,
        params: Mapping[str, Any] | None = None,
        *,
        code: str,
        field: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> FieldProblem:
        """A problem told in one translatable message, both languages rendered from the catalogue."""
        zh, en = render_both(message, params)
        return cls(code=code, zh=zh, en=en, field=field, sheet=sheet, row=row, column=column)

    def location_zh(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"「{self.column}」列")
        elif self.field:
            parts.append(f"字段「{self.field}」")
        return "".join(parts)

    def location_en(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        elif self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc_zh, loc_en = self.location_zh(), self.location_en()
        zh = f"{loc_zh}：{self.zh}" if loc_zh else self.zh
        en = f"{loc_en}: {self.en}" if loc_en else self.en
        return f"{zh} / {en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.zh,
            "message_en": self.en,
            "field": self.field,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
        }


class WanggeError(Exception):
    """Base of every error a person is meant to read."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        zh: Any,
        en: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        problems: list[FieldProblem] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if en is None:  # one translatable message: render both languages from the catalogue
            zh, en = render_both(zh, params)
        self.zh: str = str(zh)
        self.en: str = en
        self.field = field
        if code:
            self.code = code
        self.problems: list[FieldProblem] = problems or []
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"「{self.field}」" if self.field else ""
        return f"{prefix}{self.zh} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "message": self.zh,
            "message_en": self.en,
            "field": self.field,
        }
        if self.problems:
            data["problems"] = [p.as_dict() for p in self.problems]
        return data


class ValidationFailed(WanggeError):
    """Input that breaks a rule; nothing was written."""

    status = 400
    code = "invalid"


class NotFound(WanggeError):
    status = 404
    code = "not_found"


class PermissionDenied(WanggeError):
    """The acting user may not do this (outside their scope or role)."""

    status = 403
    code = "forbidden"


class Conflict(WanggeError):
    """Someone else changed the thing first (a lost race on a conditional UPDATE)."""

    status = 409
    code = "conflict"
