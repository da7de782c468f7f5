"""The seeded calendar equals the package, the cache follows changes, uncovered years fall back out loud."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import chinese_calendar.constants as package
import pytest

from wangge.holidays import workdays
from wangge.holidays.models import CalendarDay, CalendarYear
from wangge.holidays.services import (
    calendar_day_delete,
    calendar_day_save,
    calendar_year_delete,
    calendar_year_import,
    calendar_year_save,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
YEARS = sorted({d.year for d in package.holidays})


def test_every_year_of_the_package_is_seeded_with_the_same_days() -> None:
    assert YEARS[0] == 2004 and YEARS[-1] == 2026
    assert list(CalendarYear.objects.order_by("year").values_list("year", flat=True)) == YEARS
    assert set(CalendarDay.objects.filter(kind="holiday").values_list("date", flat=True)) == set(package.holidays)
    assert set(CalendarDay.objects.filter(kind="workday").values_list("date", flat=True)) == set(package.workdays)
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 17)).name == "春节"


def test_is_workday_agrees_with_the_package_on_every_day_it_knows() -> None:
    day, last = dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31)
    disagree = []
    while day <= last:
        if workdays.is_workday(day) != chinese_calendar.is_workday(day):
            disagree.append(day)
        day += dt.timedelta(days=1)
    assert disagree == []


def test_a_year_is_loaded_once_and_then_read_from_memory(django_assert_num_queries: Any) -> None:
    workdays.is_workday(dt.date(2026, 3, 2))
    with django_assert_num_queries(0):
        assert workdays.is_workday(dt.date(2026, 10, 10))  # the adjusted Saturday
        assert not workdays.is_workday(dt.date(2026, 10, 1))


def test_a_change_through_the_services_is_seen_at_once_in_this_process() -> None:
    assert not workdays.is_covered(2027)
    calendar_year_save(year=2027, note="by hand")
    assert workdays.is_covered(2027)
    assert workdays.is_workday(dt.date(2027, 2, 10))
    calendar_day_save(date=dt.date(2027, 2, 10), kind="holiday", name="春节")
    assert not workdays.is_workday(dt.date(2027, 2, 10))
    calendar_day_save(date=dt.date(2027, 2, 20), kind="workday", name="春节")
    assert workdays.is_workday(dt.date(2027, 2, 20))
    calendar_day_delete(date=dt.date(2027, 2, 10))
    assert workdays.is_workday(dt.date(2027, 2, 10))
    calendar_year_delete(year=2027)
    assert not workdays.is_covered(2027)
    assert not CalendarDay.objects.filter(year=2027).exists()


def test_another_process_notices_a_change_within_the_refresh_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 1000.0}
    monkeypatch.setattr(workdays, "_monotonic", lambda: clock["now"])
    assert not workdays.is_covered(2027)
    # Another process imports 2027: the rows change, but this process's cache is not told.
    with monkeypatch.context() as other_process:
        other_process.setattr(workdays, "clear_cache", lambda: None)
        calendar_year_import(year=2027, text="holiday,元旦,2027-01-01,2027-01-03\n")
    clock["now"] += workdays.REFRESH_SECONDS - 1
    assert not workdays.is_covered(2027)  # inside the interval: the stamp is not even looked at
    clock["now"] += 1
    assert workdays.is_covered(2027)
    assert not workdays.is_workday(dt.date(2027, 1, 1))


def test_the_stamp_moves_even_when_the_clock_stands_still() -> None:
    first = calendar_year_save(year=2027).updated_at
    second = calendar_year_save(year=2027).updated_at
    assert second > first


def test_an_uncovered_year_counts_monday_to_friday_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wangge.holidays.workdays"):
        with workdays.track_fallback() as fell_back:
            assert workdays.is_workday(dt.date(2027, 1, 1))  # a Friday; New Year unknown
            assert not workdays.is_workday(dt.date(2027, 1, 2))
            assert workdays.is_workday(dt.date(2026, 12, 31))
        assert fell_back == {2027}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2027" in warnings[0].getMessage()


def test_uncovered_years_of_a_span() -> None:
    start = dt.datetime(2026, 12, 30, 10, 0, tzinfo=SH)
    assert workdays.uncovered_years(start, start + dt.timedelta(days=400)) == [2027, 2028]
    assert workdays.uncovered_years(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == []
    # 2026-12-31 16:30 UTC is already 1 January 2027 in the county.
    assert workdays.uncovered_years(start, dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)) == [2027]


def test_zero_working_days_is_the_same_working_day_or_the_next_after_a_rest_day() -> None:
    close = dt.time(17, 30)
    monday = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    assert workdays.add_working_days(monday, 0) == dt.datetime.combine(monday.date(), close, SH)
    national_day = dt.datetime(2026, 10, 1, 10, 0, tzinfo=SH)
    assert workdays.add_working_days(national_day, 0) == dt.datetime(2026, 10, 8, 17, 30, tzinfo=SH)
