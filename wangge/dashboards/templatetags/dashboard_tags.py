"""Formatting of measures on the dashboard pages: rates as percentages, times in hours or days."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()

LEVEL_LABELS = {
    "city": "市",
    "town": "乡镇(街道)",
    "village": "村(社区)",
    "branch": "党支部",
    "grid": "微网格",
    "department": "职能部门",
}


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.923 → "92.3%"; None → "—" (nothing to divide)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


@register.filter
def pp(value: Any) -> str:
    """A change of a rate in percentage points: +2.5 / −1.0."""
    if value is None:
        return ""
    points = float(value) * 100
    return f"{'+' if points >= 0 else '−'}{abs(points):.1f}"


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as minutes, hours or days, whichever reads best."""
    if seconds is None or seconds == "":
        return "—"
    s = float(seconds)
    if s < 3600:
        return _("%(n)s min") % {"n": f"{s / 60:.0f}"}
    if s < 48 * 3600:
        return _("%(n)s h") % {"n": f"{s / 3600:.1f}"}
    return _("%(n)s d") % {"n": f"{s / 86400:.1f}"}


@register.filter
def level_label(level: str) -> str:
    return LEVEL_LABELS.get(str(level), str(level))


@register.filter
def heat(row: dict[str, Any]) -> str:
    """A class for a table row by its overdue share (the same colours as the map)."""
    open_ = row.get("open") or 0
    overdue = row.get("overdue") or 0
    if overdue and overdue * 5 >= max(open_, 1):
        return "heat-bad"
    if overdue:
        return "heat-warn"
    return ""
