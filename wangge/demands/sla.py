"""Time limits (sla): when a demand must be accepted and resolved, on the county's working calendar.

Rules:
- Limits come from the category and urgency (a default when there is no category).
- Hours for urgent matters are calendar hours (a gas leak does not wait for Monday); hours for
  normal matters are working hours inside the working day (08:30–17:30 by default).
- N working days end at the close of the N-th working day after the day of the start (the day of
  the start does not count, as in Chinese administrative practice), following the county's calendar
  of public holidays and adjusted workdays (调休) in `wangge.holidays` (the arithmetic is in
  `wangge.holidays.workdays`).
- A year the calendar does not cover is counted Monday–Friday; `deadlines_and_fallback` says which
  years that happened for, so the demand's timeline can say so (`demands.services._common._note_calendar_gap`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from wangge.core.clock import local_tz
from wangge.holidays.workdays import add_working_days, add_working_hours, track_fallback

# Kept for the modules that still import it from here (demands.services, dashboards); new code calls
# wangge.core.clock.local_tz().
LOCAL_TZ = local_tz()


@dataclass(frozen=True)
class Limits:
    accept_hours: int
    resolve_value: int
    resolve_unit: str  # "hours" | "working_days"
    urgent: bool


DEFAULT_LIMITS: dict[str, Any] = {
    "accept_hours_normal": 8,
    "accept_hours_urgent": 2,
    "resolve_value_normal": 5,
    "resolve_value_urgent": 24,
    "resolve_unit_normal": "working_days",
    "resolve_unit_urgent": "hours",
}


def limits_for(category: Any | None, urgency: str) -> Limits:
    """The category's limits for this urgency, or the defaults."""
    urgent = urgency == "urgent"
    if category is None:
        suffix = "urgent" if urgent else "normal"
        custom = getattr(settings, "DEMAND_DEFAULT_LIMITS", None) or {}
        merged = {**DEFAULT_LIMITS, **custom}
        return Limits(
            accept_hours=int(merged[f"accept_hours_{suffix}"]),
            resolve_value=int(merged[f"resolve_value_{suffix}"]),
            resolve_unit=str(merged[f"resolve_unit_{suffix}"]),
            urgent=urgent,
        )
    return Limits(
        accept_hours=category.accept_hours_urgent if urgent else category.accept_hours_normal,
        resolve_value=category.resolve_value_urgent if urgent else category.resolve_value_normal,
        resolve_unit=category.resolve_unit,
        urgent=urgent,
    )


def add_hours(start: dt.datetime, hours: int, *, urgent: bool) -> dt.datetime:
    """Calendar hours for urgent matters, working hours otherwise."""
    if urgent:
        return start + dt.timedelta(hours=hours)
    return add_working_hours(start, hours)


def accept_due(*, category: Any | None, urgency: str, start: dt.datetime) -> dt.datetime:
    limits = limits_for(category, urgency)
    return add_hours(start, limits.accept_hours, urgent=limits.urgent)


def resolve_due(*, category: Any | None, urgency: str, start: dt.datetime) -> dt.datetime:
    limits = limits_for(category, urgency)
    if limits.resolve_unit == "working_days":
        return add_working_days(start, limits.resolve_value)
    return add_hours(start, limits.resolve_value, urgent=limits.urgent)


def yellow_at(*, start: dt.datetime, due: dt.datetime) -> dt.datetime:
    """When the yellow flag falls due: a share (DEMAND_YELLOW_FRACTION, 0.8) of the resolve window used."""
    fraction = float(getattr(settings, "DEMAND_YELLOW_FRACTION", 0.8))
    window = max(due - start, dt.timedelta(0))
    return start + window * fraction


def deadlines(*, category: Any | None, urgency: str, start: dt.datetime) -> dict[str, dt.datetime]:
    """accept_due_at, resolve_due_at and yellow_at for a holder starting at `start`."""
    resolve = resolve_due(category=category, urgency=urgency, start=start)
    return {
        "accept_due_at": accept_due(category=category, urgency=urgency, start=start),
        "resolve_due_at": resolve,
        "yellow_at": yellow_at(start=start, due=resolve),
    }


def deadlines_and_fallback(
    *, category: Any | None, urgency: str, start: dt.datetime
) -> tuple[dict[str, dt.datetime], list[int]]:
    """`deadlines(...)` and the years it had to count Monday–Friday because the calendar lacks them."""
    with track_fallback() as years:
        limits = deadlines(category=category, urgency=urgency, start=start)
    return limits, sorted(years)
