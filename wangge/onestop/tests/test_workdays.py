"""Working-day limits on the Chinese calendar: holidays skipped, adjusted workdays (调休) counted."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.holidays.workdays import add_working_days, working_days_between, working_hours_between
from wangge.onestop import selectors, services
from wangge.onestop.testing import make_application

SH = ZoneInfo("Asia/Shanghai")

# The calendar is read from the database (seeded from the chinesecalendar package by a migration).
pytestmark = pytest.mark.django_db


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_one_working_day_from_friday_ends_on_the_adjusted_sunday() -> None:
    # 2024: Sunday 4 February was a working day in exchange for the Spring Festival holiday.
    assert add_working_days(at(2024, 2, 2, 10, 0), 1) == at(2024, 2, 4, 17, 30)


def test_the_spring_festival_holiday_is_skipped() -> None:
    # Friday 9 February 2024, then 10–17 February off; Sunday 18 February was worked.
    assert add_working_days(at(2024, 2, 9, 16, 0), 1) == at(2024, 2, 18, 17, 30)
    assert add_working_days(at(2024, 2, 9, 16, 0), 2) == at(2024, 2, 19, 17, 30)


def test_zero_days_means_the_same_working_day_or_the_next_after_a_holiday() -> None:
    assert add_working_days(at(2026, 3, 9, 10, 0), 0) == at(2026, 3, 9, 17, 30)
    assert add_working_days(at(2026, 10, 1, 10, 0), 0) == at(2026, 10, 8, 17, 30)  # after the National Day week


def test_elapsed_working_time_leaves_out_nights_and_holidays() -> None:
    # Friday 16:00 to the adjusted Sunday 10:00: 1.5 h + 1.5 h of opening hours.
    assert working_hours_between(at(2024, 2, 9, 16, 0), at(2024, 2, 18, 10, 0)) == pytest.approx(3.0)
    assert working_days_between(at(2026, 3, 9, 8, 30), at(2026, 3, 10, 17, 30)) == pytest.approx(2.0)
    assert working_hours_between(at(2026, 3, 9, 12, 0), at(2026, 3, 9, 11, 0)) == 0.0


@pytest.mark.django_db
def test_an_application_over_the_festival_is_on_time_by_the_chinese_calendar(tree: Any, personas: Any) -> None:
    clerk, staff = personas[Role.VILLAGE], personas[Role.DEPARTMENT]
    with time_machine.travel(at(2024, 2, 9, 16, 0), tick=False) as clock:
        app = make_application(point=tree.village, department=tree.department, user=clerk)
        # One working day after the Friday before the festival: the adjusted Sunday after it.
        assert app.limit_days == 1
        assert app.due_at == at(2024, 2, 18, 17, 30)
        task = app.tasks.get()
        assert task.due_at == app.due_at
        # Nine calendar days later, but only 3 working hours have passed.
        clock.move_to(at(2024, 2, 18, 10, 0))
        timing = selectors.timing(app)
        assert timing is not None and not timing.overdue
        assert timing.elapsed_days == pytest.approx(3 / 9, abs=0.01)
        services.task_accept(user=staff, task=task)
        services.task_complete(user=staff, task=task, result="ok")
        app.refresh_from_db()
        services.application_issue(user=clerk, application=app)
    assert app.elapsed_days == pytest.approx(3 / 9, abs=0.001)
    assert not selectors.timing(app).overdue  # type: ignore[union-attr]


@pytest.mark.django_db
def test_past_the_limit_an_open_application_shows_overdue(tree: Any, personas: Any) -> None:
    with time_machine.travel(at(2026, 3, 9, 9, 0), tick=False) as clock:
        app = make_application(point=tree.village, department=tree.department)
        clock.move_to(at(2026, 3, 11, 9, 0))
        timing = selectors.timing(app)
    assert timing is not None and timing.overdue
    assert timing.elapsed_days == pytest.approx(2.0, abs=0.01)
