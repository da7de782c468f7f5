"""Template filters of parking pages: money in yuan from integer fen."""

from __future__ import annotations

from django import template

from wangge.parking.fees import yuan as _yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """1250 → 12.50; empty for no fee."""
    return "" if fen is None or fen == "" else _yuan(int(fen))


@register.filter
def minutes_text(minutes: int | float | None) -> str:
    """95 → 1小时35分."""
    if minutes is None:
        return "—"
    m = round(minutes)
    return f"{m // 60}小时{m % 60}分" if m >= 60 else f"{m}分钟"
