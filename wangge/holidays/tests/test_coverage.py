"""The system check wangge.W010 and the dashboard banner warn when the next 60 days are not covered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.holidays.checks import check_holiday_coverage
from wangge.holidays.selectors import coverage_gap
from wangge.holidays.services import calendar_year_save

pytestmark = pytest.mark.django_db
NOVEMBER = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)  # 60 days later is 14 January 2027
OCTOBER = dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC)  # 60 days later is still 2026


def test_the_gap_is_the_uncovered_years_of_the_next_60_days() -> None:
    assert coverage_gap(dt.date(2026, 10, 15)) == []
    assert coverage_gap(dt.date(2026, 11, 15)) == [2027]
    assert coverage_gap(dt.date(2026, 11, 15), days=30) == []
    calendar_year_save(year=2027)
    assert coverage_gap(dt.date(2026, 11, 15)) == []


def test_the_system_check_warns_with_the_missing_year() -> None:
    with time_machine.travel(NOVEMBER, tick=False):
        (warning,) = check_holiday_coverage(None)
        assert warning.id == "wangge.W010"
        assert "2027" in warning.msg and "import_holidays" in warning.hint
        calendar_year_save(year=2027)
        assert check_holiday_coverage(None) == []
    with time_machine.travel(OCTOBER, tick=False):
        calendar_year_save(year=2027)
        assert check_holiday_coverage(None) == []


def page(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("dashboards:dashboard")).content.decode()


def test_the_dashboard_shows_the_banner_until_the_year_is_entered(personas: Any) -> None:
    city = personas[Role.CITY_ADMIN]
    city.is_staff = True
    city.save(update_fields=["is_staff"])
    with time_machine.travel(NOVEMBER, tick=False):
        html = page(city)
        assert 'data-testid="holiday-coverage-banner"' in html
        assert "2027" in html and "节假日" in html
        assert reverse("admin:holidays_calendaryear_import") in html
        town = page(personas[Role.TOWN])  # not staff: told whom to ask, no back-office link
        assert 'data-testid="holiday-coverage-banner"' in town
        assert reverse("admin:holidays_calendaryear_import") not in town
        calendar_year_save(year=2027)
        assert 'data-testid="holiday-coverage-banner"' not in page(city)
    with time_machine.travel(OCTOBER, tick=False):
        assert 'data-testid="holiday-coverage-banner"' not in page(personas[Role.TOWN])
