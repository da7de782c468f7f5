"""Countdowns and care tags on the workbench (the same words the page script uses each second)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from wangge.core import clock
from wangge.registry.models import CareTag

register = template.Library()


def _span(seconds: int) -> str:
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return f"{d}{_('d')} {h}{_('h')}"
    if h:
        return f"{h}{_('h')} {m}{_('min')}"
    return f"{m}{_('min')} {s}{_('s')}"


@register.simple_tag
def countdown(due: dt.datetime | None) -> str:
    """'2h 5min left' or '3min 4s overdue' as rendered; static/visits/workbench.js keeps it running."""
    if due is None:
        return "—"
    seconds = int((due - clock.now()).total_seconds())
    if seconds < 0:
        return _("%(time)s overdue") % {"time": _span(-seconds)}
    return _("%(time)s left") % {"time": _span(seconds)}


@register.filter
def is_past(due: dt.datetime | None) -> bool:
    return due is not None and due < clock.now()


CARE_CLASSES = {
    CareTag.ELDERLY_ALONE: "care-elderly",
    CareTag.LEFT_BEHIND_CHILD: "care-child",
    CareTag.LOW_INCOME: "care-income",
    CareTag.DISABLED: "care-disabled",
}


@register.filter
def care_tags(household: object) -> list[tuple[str, str]]:
    """(css class, label) of each care tag of a household."""
    labels = dict(CareTag.choices)
    tags = getattr(household, "tag_list", [])
    return [(CARE_CLASSES.get(t, ""), str(labels.get(t, t))) for t in tags]
