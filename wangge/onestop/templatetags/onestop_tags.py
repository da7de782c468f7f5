"""Small filters for one-stop pages: a fact's label in the page's language, fen as yuan, dict lookups."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def label(fact: Any) -> str:
    """The fact's label in the page's language."""
    return str(fact.label)


@register.filter
def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".") if fen else "0"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.filter
def has(collection: Any, key: Any) -> bool:
    return str(key) in {str(x) for x in collection or ()}
