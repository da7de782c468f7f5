"""Inspection periods: calendar days, weeks (Monday to Sunday) and months in the display time zone.

No database access here. A period is a half-open range of local dates [start, end). "Complete"
periods are those that ended before today began: a rule is judged only once its period is over.
"""

from __future__ import annotations

import datetime as dt

from wangge.core.clock import local_tz
from wangge.facilities.models import RulePeriod


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(local_tz()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware instant a local day begins (stored and compared in UTC)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


def period_start(day: dt.date, period: str) -> dt.date:
    if period == RulePeriod.DAY:
        return day
    if period == RulePeriod.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == RulePeriod.MONTH:
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def next_start(start: dt.date, period: str) -> dt.date:
    if period == RulePeriod.DAY:
        return start + dt.timedelta(days=1)
    if period == RulePeriod.WEEK:
        return start + dt.timedelta(days=7)
    if period == RulePeriod.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def previous_start(start: dt.date, period: str) -> dt.date:
    return period_start(start - dt.timedelta(days=1), period)


def last_complete(today: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The latest period that ended before `today` (yesterday; last Monday–Sunday; last month)."""
    end = period_start(today, period)
    return previous_start(end, period), end


def complete_periods(period: str, first: dt.date, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Every complete period that lies wholly on or after `first` and ended before `today`, oldest first."""
    start = period_start(first, period)
    if start < first:
        start = next_start(start, period)
    stop = period_start(today, period)
    out = []
    while start < stop:
        end = next_start(start, period)
        out.append((start, end))
        start = end
    return out


def current_period(today: dt.date, period: str) -> tuple[dt.date, dt.date]:
    start = period_start(today, period)
    return start, next_start(start, period)
