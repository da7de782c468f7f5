"""Reads of the holiday calendar for pages and checks (working-day arithmetic reads through workdays.py)."""

from __future__ import annotations

import datetime as dt

from wangge.holidays.models import CalendarYear

#: How far ahead the dashboard banner and the system check look for a year that is not entered.
LOOKAHEAD_DAYS = 60


def covered_years() -> list[int]:
    return list(CalendarYear.objects.order_by("year").values_list("year", flat=True))


def coverage_gap(today: dt.date, days: int = LOOKAHEAD_DAYS) -> list[int]:
    """The years touched by the next `days` days (today included) that the calendar does not cover yet."""
    wanted = set(range(today.year, (today + dt.timedelta(days=days)).year + 1))
    have = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return sorted(wanted - have)
