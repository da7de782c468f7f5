"""Time limits on the Chinese calendar: holidays, adjusted workdays, working hours, urgent hours."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from wangge.demands import sla
from wangge.holidays import workdays

SH = ZoneInfo("Asia/Shanghai")

# The calendar is read from the database (seeded from the chinesecalendar package by a migration).
pytestmark = pytest.mark.django_db


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def category(**kw: object) -> SimpleNamespace:
    base = {
        "accept_hours_normal": 8,
        "accept_hours_urgent": 2,
        "resolve_value_normal": 5,
        "resolve_value_urgent": 1,
        "resolve_unit": "working_days",
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_working_days_skip_national_day_2026() -> None:
    # Tue 29 Sep 2026: the 30th is a workday, 1–7 Oct are the holiday, then 8, 9, 10 (Saturday, adjusted).
    due = workdays.add_working_days(local(2026, 9, 29, 10, 0), 3)
    assert due.astimezone(SH) == local(2026, 10, 9, 17, 30)
    due = workdays.add_working_days(local(2026, 9, 29, 10, 0), 4)
    assert due.astimezone(SH) == local(2026, 10, 10, 17, 30)  # the adjusted Saturday counts
    assert workdays.add_working_days(local(2026, 9, 29, 10, 0), 5).astimezone(SH) == local(2026, 10, 12, 17, 30)


def test_adjusted_sunday_before_mid_autumn_counts() -> None:
    # Sat 19 Sep 2026 is a rest day, Sun 20 Sep an adjusted workday.
    assert workdays.add_working_days(local(2026, 9, 19, 9, 0), 1).astimezone(SH) == local(2026, 9, 20, 17, 30)
    assert workdays.is_workday(dt.date(2026, 9, 20)) and not workdays.is_workday(dt.date(2026, 9, 25))


def test_the_day_of_filing_does_not_count() -> None:
    assert workdays.add_working_days(local(2026, 4, 15, 8, 0), 1).astimezone(SH) == local(2026, 4, 16, 17, 30)


def test_working_hours_stop_at_closing_and_skip_the_holiday() -> None:
    # 16:30 on the last workday before National Day: one hour today, seven after the holiday.
    due = workdays.add_working_hours(local(2026, 9, 30, 16, 30), 8)
    assert due.astimezone(SH) == local(2026, 10, 8, 15, 30)
    # Filed at night: counting starts at 08:30 the next working day.
    assert workdays.add_working_hours(local(2026, 4, 15, 22, 0), 2).astimezone(SH) == local(2026, 4, 16, 10, 30)


def test_urgent_hours_are_calendar_hours_even_on_holidays() -> None:
    start = local(2026, 10, 2, 23, 0)
    assert sla.accept_due(category=category(), urgency="urgent", start=start) == start + dt.timedelta(hours=2)
    due = sla.resolve_due(
        category=category(resolve_unit="hours", resolve_value_urgent=4), urgency="urgent", start=start
    )
    assert due == start + dt.timedelta(hours=4)


def test_normal_accept_uses_working_hours() -> None:
    start = local(2026, 10, 2, 10, 0)  # in the holiday
    assert sla.accept_due(category=category(), urgency="normal", start=start).astimezone(SH) == local(
        2026, 10, 8, 16, 30
    )


def test_default_limits_without_category() -> None:
    start = local(2026, 4, 15, 9, 0)  # a Wednesday
    d = sla.deadlines(category=None, urgency="normal", start=start)
    assert d["resolve_due_at"].astimezone(SH) == local(2026, 4, 22, 17, 30)  # five working days
    assert d["accept_due_at"].astimezone(SH) == local(2026, 4, 15, 17, 0)
    assert start < d["yellow_at"] < d["resolve_due_at"]
    urgent = sla.deadlines(category=None, urgency="urgent", start=start)
    assert urgent["resolve_due_at"] == start + dt.timedelta(hours=24)


@pytest.mark.parametrize("fraction", [0.5, 0.8])
def test_yellow_at_is_the_configured_share_of_the_window(settings: object, fraction: float) -> None:
    settings.DEMAND_YELLOW_FRACTION = fraction  # type: ignore[attr-defined]
    start = local(2026, 4, 15, 9, 0)
    due = start + dt.timedelta(hours=10)
    assert sla.yellow_at(start=start, due=due) == start + dt.timedelta(hours=10 * fraction)
