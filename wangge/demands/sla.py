"""Time limits (sla): when a demand must be accepted and resolved, on the Chinese working calendar.

Rules:
- Limits come from the category and urgency (a default when there is no category).
- Hours for urgent matters are calendar hours (a gas leak does not wait for Monday); hours for
  normal matters are working hours inside the working day (08:30–17:30 by default).
- N working days end at the close of the N-th working day after the day of the start (the day of
  the start does not count, as in Chinese administrative practice), following the calendar of
  public holidays and adjusted workdays (调休) of the `chinesecalendar` package.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

log = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


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


def _parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def workday_bounds() -> tuple[dt.time, dt.time]:
    start = _parse_hhmm(getattr(settings, "DEMAND_WORKDAY_START", "08:30"))
    end = _parse_hhmm(getattr(settings, "DEMAND_WORKDAY_END", "17:30"))
    return start, end


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    """Chinese working day (adjusted workdays included); plain Monday–Friday outside the package's years."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        log.warning("chinesecalendar has no data for %s; counting Monday to Friday", day.year)
        return day.weekday() < 5


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


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """`hours` of working time after `start`, counted only inside working days' opening hours."""
    open_t, close_t = workday_bounds()
    local = start.astimezone(LOCAL_TZ)
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    cursor = local
    for _ in range(3660):  # ten years of days is a hard stop against a broken calendar
        if is_workday(day):
            day_open = dt.datetime.combine(day, open_t, LOCAL_TZ)
            day_close = dt.datetime.combine(day, close_t, LOCAL_TZ)
            begin = max(cursor, day_open)
            if begin < day_close:
                available = day_close - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(dt.UTC)
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0, 0), LOCAL_TZ)
    raise ValueError("working hours could not be placed on the calendar")


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Close of the `days`-th working day after the local day of `start` (that day does not count)."""
    _, close_t = workday_bounds()
    day = start.astimezone(LOCAL_TZ).date()
    if days <= 0:
        return dt.datetime.combine(day, close_t, LOCAL_TZ).astimezone(dt.UTC)
    counted = 0
    for _ in range(3660):
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
            if counted == days:
                return dt.datetime.combine(day, close_t, LOCAL_TZ).astimezone(dt.UTC)
    raise ValueError("working days could not be placed on the calendar")


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
