"""Small filters for project pages: money in 万元, a status's label in the page's language."""

from __future__ import annotations

from django import template

from wangge.projects.measures import STATUS_LABELS

register = template.Library()


@register.filter
def wan_yuan(fen: int | None) -> str:
    """Budgets are published in 万元 (ten thousand yuan)."""
    if not fen:
        return "—"
    return f"{fen / 1_000_000:,.1f}".rstrip("0").rstrip(".")


@register.filter
def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


@register.filter
def status_class(status: str) -> str:
    return {
        "completed": "ok",
        "done": "ok",
        "on_track": "ok",
        "pending": "",
        "at_risk": "warn",
        "completed_late": "warn",
        "done_late": "warn",
        "late": "bad",
        "overdue": "bad",
    }.get(status, "")
