"""Working days and working time on the county's holiday calendar (the one copy; demands, one-stop and
parking all count with it).

The calendar lives in the database (`CalendarYear`, `CalendarDay`, see models.py). Reading it must cost
nothing on the intake path, so each process keeps a dict per year in memory:

- a year is loaded with one query the first time a date in it is asked about;
- the holiday services call `clear_cache()` (at once and again after the commit), so the process that
  edited the calendar sees the change immediately;
- every other process (gunicorn workers, the worker) compares the stamp (latest `updated_at`, number of
  years) at most once every `REFRESH_SECONDS` (60 s) and drops its dicts when the stamp moved. Every
  service bumps `CalendarYear.updated_at`, so an edit is noticed within a minute.

Never a silent guess: a date in a year the calendar does not cover is counted Monday–Friday, a warning
naming the year goes to the log (once per year per process and cache), and `uncovered_years()` or
`track_fallback()` tell the caller which years fell back so it can say so (e.g. in a demand's timeline).

Times are local to `wangge.core.clock.local_tz()`; results are returned in UTC.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings

from wangge.core.clock import local_tz

log = logging.getLogger(__name__)

#: How long another process may keep using a calendar that was edited elsewhere (seconds).
REFRESH_SECONDS = 60
HOLIDAY = "holiday"
WORKDAY = "workday"
#: Ten years of days: a hard stop against a calendar with no working day at all.
_MAX_DAYS = 3660


class _Cache:
    def __init__(self) -> None:
        # year -> {date: "holiday" | "workday"} for a covered year, None for a year not covered
        self.years: dict[int, dict[dt.date, str] | None] = {}
        self.stamp: Any = None
        self.checked_at: float | None = None


_cache = _Cache()
_fallbacks: ContextVar[set[int] | None] = ContextVar("wangge_holiday_fallbacks", default=None)


def _monotonic() -> float:
    # Not core.clock.now(): the refresh interval is real elapsed time, whatever time tests travel to.
    return time.monotonic()


def clear_cache() -> None:
    """Forget every loaded year (the holiday services call this after each change)."""
    global _cache
    _cache = _Cache()


def _stamp() -> tuple[Any, int]:
    from django.db.models import Count, Max

    from wangge.holidays.models import CalendarYear

    agg = CalendarYear.objects.aggregate(latest=Max("updated_at"), years=Count("id"))
    return agg["latest"], agg["years"]


def _load(year: int) -> dict[dt.date, str] | None:
    from wangge.holidays.models import CalendarDay, CalendarYear

    if not CalendarYear.objects.filter(year=year).exists():
        return None
    return dict(CalendarDay.objects.filter(year=year).values_list("date", "kind"))


def _year(year: int) -> dict[dt.date, str] | None:
    global _cache
    cache = _cache
    now = _monotonic()
    if cache.checked_at is None or now - cache.checked_at >= REFRESH_SECONDS:
        stamp = _stamp()
        if cache.checked_at is not None and stamp != cache.stamp:
            cache = _cache = _Cache()  # edited in another process: reload what is asked for next
        cache.stamp, cache.checked_at = stamp, now
    if year in cache.years:
        return cache.years[year]
    days = _load(year)
    cache.years[year] = days
    if days is None:
        log.warning(
            "The holiday calendar has no year %s: counting Monday to Friday as working days. "
            "Import the State Council's notice (manage.py import_holidays FILE, or the back office).",
            year,
        )
    return days


def is_covered(year: int) -> bool:
    """Whether the county's calendar has this year (its `CalendarYear` row exists)."""
    return _year(year) is not None


def is_workday(day: dt.date) -> bool:
    """A working day: adjusted workdays (调休) count, public holidays do not; Monday–Friday in an uncovered year."""
    days = _year(day.year)
    if days is None:
        recorder = _fallbacks.get()
        if recorder is not None:
            recorder.add(day.year)
        return day.weekday() < 5
    kind = days.get(day)
    if kind is None:
        return day.weekday() < 5
    return kind == WORKDAY


def _local_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(local_tz()).date()
    return value


def uncovered_years(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> list[int]:
    """The years from `start` to `end` (local dates, both included) that the calendar does not cover."""
    first, last = _local_date(start), _local_date(end)
    if last < first:
        first, last = last, first
    return [year for year in range(first.year, last.year + 1) if not is_covered(year)]


@contextlib.contextmanager
def track_fallback() -> Iterator[set[int]]:
    """Collect the uncovered years that `is_workday` fell back to Monday–Friday for inside the block."""
    seen: set[int] = set()
    token = _fallbacks.set(seen)
    try:
        yield seen
    finally:
        _fallbacks.reset(token)


def _parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def workday_bounds() -> tuple[dt.time, dt.time]:
    """Opening and closing time of a working day (DEMAND_WORKDAY_START/END, 08:30–17:30 by default)."""
    start = _parse_hhmm(getattr(settings, "DEMAND_WORKDAY_START", "08:30"))
    end = _parse_hhmm(getattr(settings, "DEMAND_WORKDAY_END", "17:30"))
    return start, end


def hours_per_day() -> float:
    open_t, close_t = workday_bounds()
    return (dt.datetime.combine(dt.date.min, close_t) - dt.datetime.combine(dt.date.min, open_t)).seconds / 3600


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """`hours` of working time after `start`, counted only inside working days' opening hours."""
    tz = local_tz()
    open_t, close_t = workday_bounds()
    local = start.astimezone(tz)
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    cursor = local
    for _ in range(_MAX_DAYS):
        if is_workday(day):
            day_open = dt.datetime.combine(day, open_t, tz)
            day_close = dt.datetime.combine(day, close_t, tz)
            begin = max(cursor, day_open)
            if begin < day_close:
                available = day_close - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(dt.UTC)
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0, 0), tz)
    raise ValueError("working hours could not be placed on the calendar")


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """Close of the `days`-th working day after the local day of `start` (that day does not count).

    0 days (即办) is the close of the same day, or of the first working day after it when `start`
    falls on a rest day.
    """
    tz = local_tz()
    _, close_t = workday_bounds()
    day = start.astimezone(tz).date()
    counted = 0
    if days <= 0 and is_workday(day):
        return dt.datetime.combine(day, close_t, tz).astimezone(dt.UTC)
    for _ in range(_MAX_DAYS):
        day += dt.timedelta(days=1)
        if is_workday(day):
            counted += 1
            if counted >= days:
                return dt.datetime.combine(day, close_t, tz).astimezone(dt.UTC)
    raise ValueError("working days could not be placed on the calendar")


def working_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """Hours of opening time on working days between two moments (nights, weekends, holidays excluded)."""
    if end <= start:
        return 0.0
    tz = local_tz()
    open_t, close_t = workday_bounds()
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    total = dt.timedelta(0)
    while day <= local_end.date():
        if is_workday(day):
            begin = max(local_start, dt.datetime.combine(day, open_t, tz))
            finish = min(local_end, dt.datetime.combine(day, close_t, tz))
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total.total_seconds() / 3600


def working_days_between(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed working time in working days (one working day = the opening hours of one day)."""
    return working_hours_between(start, end) / hours_per_day()
