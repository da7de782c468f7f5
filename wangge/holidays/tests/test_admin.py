"""Back office: upload a notice (all or nothing, problems listed) and edit single days through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wangge.accounts.models import User
from wangge.holidays import workdays
from wangge.holidays.models import CalendarDay, CalendarYear, Source

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/holidays/calendaryear/import/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-123456789"))
    return client


def upload(client: Client, text: str, **extra: str) -> object:
    file = SimpleUploadedFile("2027.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post(IMPORT_URL, {"file": file, **extra})


def test_the_upload_page_imports_a_good_notice(admin_client: Client) -> None:
    assert "kind,name,first,last" in admin_client.get(IMPORT_URL).content.decode()
    assert IMPORT_URL in admin_client.get("/admin/holidays/calendaryear/").content.decode()
    resp = upload(admin_client, "holiday,元旦,2027-01-01,2027-01-03\nworkday,春节,2027-02-20\n")
    assert resp.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    assert year.source == Source.NOTICE and year.updated_by.username == "root"
    assert CalendarDay.objects.filter(year=2027).count() == 4
    assert not workdays.is_workday(dt.date(2027, 1, 1))


def test_the_upload_page_lists_every_problem_and_writes_nothing(admin_client: Client) -> None:
    resp = upload(admin_client, "holiday,元旦,2027-01-01,2027-01-03\nworkday,元旦,2027-01-04\nholiday,x,2027-13-01\n")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "第 2 行「first」列" in html and "第 3 行「first」列" in html
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_day_edited_by_hand_goes_through_the_rules_and_reaches_the_cache(admin_client: Client) -> None:
    assert workdays.is_workday(dt.date(2026, 3, 2))
    resp = admin_client.post(
        "/admin/holidays/calendarday/add/", {"date": "2026-03-02", "kind": "workday", "name": "测试"}
    )
    assert resp.status_code == 200 and "调休" in resp.content.decode()  # a Monday cannot be an adjusted workday
    assert not CalendarDay.objects.filter(date=dt.date(2026, 3, 2)).exists()
    resp = admin_client.post(
        "/admin/holidays/calendarday/add/", {"date": "2026-03-02", "kind": "holiday", "name": "县庆"}
    )
    assert resp.status_code == 302
    assert not workdays.is_workday(dt.date(2026, 3, 2))
    assert CalendarYear.objects.get(year=2026).source == Source.MANUAL
    day = CalendarDay.objects.get(date=dt.date(2026, 3, 2))
    admin_client.post(f"/admin/holidays/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert workdays.is_workday(dt.date(2026, 3, 2))


def test_a_day_in_a_year_that_is_not_entered_is_refused(admin_client: Client) -> None:
    resp = admin_client.post(
        "/admin/holidays/calendarday/add/", {"date": "2027-02-08", "kind": "holiday", "name": "春节"}
    )
    assert resp.status_code == 200 and "2027" in resp.content.decode()
    assert not CalendarDay.objects.exists() or not CalendarDay.objects.filter(year=2027).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_year_added_by_hand_is_covered_and_stamped(admin_client: Client) -> None:
    assert not workdays.is_covered(2028)
    resp = admin_client.post("/admin/holidays/calendaryear/add/", {"year": 2028, "note": "先登记，节日待补"})
    assert resp.status_code == 302
    row = CalendarYear.objects.get(year=2028)
    assert row.source == Source.MANUAL and row.updated_by.username == "root" and row.note == "先登记，节日待补"
    assert workdays.is_covered(2028)
    admin_client.post(f"/admin/holidays/calendaryear/{row.pk}/delete/", {"post": "yes"})
    assert not workdays.is_covered(2028)
