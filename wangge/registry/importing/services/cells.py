"""Cleaning of single cells: text, household size, care tags, ID numbers (each raises ValidationFailed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.masking import id_checksum_ok
from wangge.core.text import Listed
from wangge.registry.models import CARE_TAG_WORDS, CareTag, tags_to_column
from wangge.registry.services import clean_id_number

TAG_SPLIT = re.compile(r"[、,，;；\s/]+")
NO_TAG = {"无", "-", "—", "／", "/", "否"}
TAG_CODES = {str(c) for c in CareTag.values}
T = TypeVar("T")


class Memo(Generic[T]):
    """A cell cleaner whose answers (or errors, returned rather than raised) are kept by the cell's type and
    value: household sizes and care tags repeat on most rows of a city, so most rows clean with one lookup."""

    def __init__(self, clean: Callable[[object], T]) -> None:
        self.clean = clean
        self.seen: dict[tuple[type, object], T | ValidationFailed] = {}

    def __call__(self, value: object) -> T | ValidationFailed:
        key = (type(value), value)  # 1, 1.0 and True are equal keys; their answers are not
        hit = self.seen.get(key)
        if hit is None:
            try:
                hit = self.clean(value)
            except ValidationFailed as e:
                hit = e
            self.seen[key] = hit
        return hit


def _text(value: object) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _members(value: object) -> int:
    if value == "" or value is None:
        return 1
    n: int | None = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float):
        n = int(value) if value.is_integer() else None
    else:
        text = str(value).strip().removesuffix("人").removesuffix("口")
        if text.isdigit() and text.isascii():
            n = int(text)
        else:
            try:
                f = float(text)
                n = int(f) if f.is_integer() else None
            except ValueError:
                n = None
    if n is None or not 1 <= n <= 50:
        raise ValidationFailed(
            _("members must be a whole number from 1 to 50: %(value)s"),
            params={"value": value},
            code="bad_members",
        )
    return n


def _tags(value: object) -> str:
    text = _text(value)
    if not text or text in NO_TAG:
        return ""
    tags = []
    for word in TAG_SPLIT.split(text):
        if not word or word in NO_TAG:
            continue
        tag = CARE_TAG_WORDS.get(word) or (word if word in TAG_CODES else None)
        if tag is None:
            raise ValidationFailed(
                _("unknown care tag '%(word)s'; allowed: %(allowed)s"),
                params={"word": word, "allowed": Listed(CARE_TAG_WORDS)},
                code="unknown_tag",
            )
        tags.append(tag)
    return tags_to_column(tags)


def _id_number(value: object) -> str:
    # The usual cell: 18 ASCII characters whose checksum holds need none of clean_id_number's repairs.
    if type(value) is str and len(value) == 18 and value.isascii():
        text = value.upper()
        if id_checksum_ok(text):
            return text
    # A number cell cannot hold 18 digits: Excel keeps 15 significant ones, so the ID is lost.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
    return clean_id_number(value, field="head_id_number")
