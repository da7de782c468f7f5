"""Errors that speak to people: a code, a message in Chinese and English, and where it happened.

Services raise these; pages show `str(error)` (Chinese first), the API returns `as_dict()`, and
importers collect many `FieldProblem`s before refusing a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        zh: str,
        en: str,
        *,
        field: str | None = None,
        code: str | None = None,
        problems: list[FieldProblem] | None = None,
    ) -> None:
        self.zh = zh
        self.en = en
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
