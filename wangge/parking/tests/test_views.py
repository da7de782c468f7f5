"""Parking pages: who may open them, what they show, the warden's form and the what-if replay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.parking import services
from wangge.parking.fees import LOCAL_TZ
from wangge.parking.models import ParkingAnomaly, ParkingSession, SessionState
from wangge.parking.testing import make_lot, make_tariff

NOW = dt.datetime(2026, 6, 15, 18, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lot(tree: Any) -> Any:
    lot = make_lot(area=tree.village, name="金沙路停车场", capacity=4, operator=tree.department)
    services.parking_entry(lot=lot, plate="湘A12345", at=NOW - dt.timedelta(hours=3), source="gate", event_id="seed-1")
    services.parking_exit(lot=lot, plate="湘A12345", at=NOW - dt.timedelta(hours=1), source="gate", event_id="seed-2")
    return lot


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.BRANCH])
def test_grid_leaders_and_branches_are_refused(personas: Any, lot: Any, role: str) -> None:
    client = login(personas[role])
    for url in (
        reverse("parking:lots"),
        reverse("parking:lot", args=[lot.pk]),
        reverse("parking:warden"),
        reverse("parking:whatif"),
    ):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "停车" in r.content.decode()


def test_lots_list_shows_live_occupancy_and_turnover(personas: Any, lot: Any) -> None:
    services.parking_entry(lot=lot, plate="湘B00001", at=NOW - dt.timedelta(minutes=5), source="gate", event_id="x")
    body = login(personas[Role.TOWN]).get(reverse("parking:lots")).content.decode()
    assert "金沙路停车场" in body
    assert "1/4" in body  # one car parked now of 4 spaces
    assert "0.5" in body  # 2 stays begun today / 4 spaces


def test_lot_page_shows_chart_data_sessions_and_fee_explanation(personas: Any, lot: Any) -> None:
    r = login(personas[Role.TOWN]).get(reverse("parking:lot", args=[lot.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="lot-chart"' in body and "echarts.min.js" in body
    assert "湘A12345" in body  # staff of the lot's area see whole plates
    assert "第 1 小时 2.00 元" in body
    assert "每个自然日封顶 20.00 元" in body


def test_plates_are_masked_for_readers_outside_the_lot_staff(personas: Any, lot: Any) -> None:
    body = login(personas[Role.AUDITOR]).get(reverse("parking:lot", args=[lot.pk])).content.decode()
    assert "湘A1**45" in body
    assert "湘A12345" not in body


def test_department_staff_see_the_lots_they_operate(personas: Any, lot: Any, tree: Any) -> None:
    other = make_lot(area=tree.village, name="别家停车场", operator=tree.other_department)
    client = login(personas[Role.DEPARTMENT])
    body = client.get(reverse("parking:lots")).content.decode()
    assert "金沙路停车场" in body and "别家停车场" not in body
    assert client.get(reverse("parking:lot", args=[other.pk])).status_code == 404


def test_the_warden_records_entry_and_exit_and_sees_the_fee(personas: Any, lot: Any) -> None:
    client = login(personas[Role.VILLAGE])
    page = client.get(reverse("parking:warden"))
    assert page.status_code == 200
    event = page.context["form"].initial["event_id"]
    with time_machine.travel(NOW - dt.timedelta(minutes=50), tick=False):
        r = client.post(
            reverse("parking:warden"), {"lot": lot.pk, "plate": "湘a 54321", "event_id": event, "action": "entry"}
        )
        assert r.status_code == 200
        assert "湘A54321" in r.content.decode()
        # A double tap sends the same event id: still one stay.
        client.post(
            reverse("parking:warden"), {"lot": lot.pk, "plate": "湘A54321", "event_id": event, "action": "entry"}
        )
    assert ParkingSession.objects.filter(plate="湘A54321").count() == 1
    r = client.post(
        reverse("parking:warden"), {"lot": lot.pk, "plate": "湘A54321", "event_id": "exit-1", "action": "exit"}
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert "¥2.00" in body  # 50 minutes: two half-hour units of the first hour
    assert "第 1 小时 2.00 元（每 30 分钟 1.00 元 × 2）" in body
    s = ParkingSession.objects.get(plate="湘A54321")
    assert s.state == SessionState.CLOSED and s.source == "warden" and s.closed_by == personas[Role.VILLAGE]


def test_the_warden_sees_errors_in_both_languages(personas: Any, lot: Any) -> None:
    client = login(personas[Role.VILLAGE])
    r = client.post(
        reverse("parking:warden"), {"lot": lot.pk, "plate": "湘A77777", "event_id": "e-1", "action": "exit"}
    )
    assert r.status_code == 409
    body = r.content.decode()
    assert "未找到车辆 湘A77777" in body and "no entry of 湘A77777" in body
    assert ParkingAnomaly.objects.count() == 1
    r = client.post(reverse("parking:warden"), {"lot": lot.pk, "plate": "A1", "event_id": "e-2", "action": "entry"})
    assert r.status_code == 400 and "格式不正确" in r.content.decode()


def test_readers_cannot_record(personas: Any, lot: Any) -> None:
    client = login(personas[Role.AUDITOR])
    assert client.get(reverse("parking:warden")).status_code == 403
    r = client.post(reverse("parking:warden"), {"lot": lot.pk, "plate": "湘A54321", "event_id": "a", "action": "entry"})
    assert r.status_code == 403
    assert not ParkingSession.objects.filter(plate="湘A54321").exists()


def test_the_warden_cannot_pick_a_lot_outside_the_scope(personas: Any, lot: Any, tree: Any) -> None:
    outside = make_lot(area=tree.other_town, name="外面停车场")
    client = login(personas[Role.VILLAGE])
    r = client.post(
        reverse("parking:warden"), {"lot": outside.pk, "plate": "湘A54321", "event_id": "o", "action": "entry"}
    )
    assert r.status_code == 200 and "外面停车场" not in r.content.decode()
    assert not ParkingSession.objects.filter(lot=outside).exists()


def test_what_if_compares_current_and_proposed(personas: Any, lot: Any) -> None:
    proposed = make_tariff(name="拟议方案", free_minutes=0)
    client = login(personas[Role.TOWN])
    page = client.get(reverse("parking:whatif"))
    assert page.status_code == 200 and "拟议方案" in page.content.decode()
    day = NOW.date().isoformat()
    r = client.get(
        reverse("parking:whatif"),
        {"lot": lot.pk, "start": day, "end": day, "tariff": proposed.pk, "elasticity": "-0.3"},
    )
    body = r.content.decode()
    assert r.status_code == 200
    # One stay of 2 hours: ¥2 + ¥3 = ¥5.00 under both (the proposal only drops the free quarter).
    assert 'data-testid="whatif-result"' in body
    assert body.count("¥5.00") >= 2
    assert "弹性为 -0.3" in body


def test_what_if_with_typed_steps_and_their_errors(personas: Any, lot: Any) -> None:
    client = login(personas[Role.TOWN])
    day = NOW.date().isoformat()
    params = {
        "lot": lot.pk,
        "start": day,
        "end": day,
        "elasticity": "-0.5",
        "free_minutes": "0",
        "steps_text": "0-60 4 30\n60- 10 60",
        "day_cap_yuan": "50",
        "peak_multiplier_pct": "100",
        "peak_days": "workday",
    }
    body = client.get(reverse("parking:whatif"), params).content.decode()
    # 2 hours: ¥4 + ¥10 = ¥14.00 against ¥5.00 now.
    assert "¥14.00" in body and "¥5.00" in body
    bad = client.get(reverse("parking:whatif"), params | {"steps_text": "0-60 4 30\n90- 10 60"}).content.decode()
    assert "应从第 60 分钟开始" in bad
    assert 'data-testid="whatif-result"' not in bad


def test_tariffs_are_edited_in_the_back_office_in_plain_lines(personas: Any, lot: Any) -> None:
    from wangge.accounts.models import User
    from wangge.parking.models import Tariff

    admin_user = personas[Role.CITY_ADMIN]
    User.objects.filter(pk=admin_user.pk).update(is_staff=True)
    client = login(User.objects.get(pk=admin_user.pk))
    form = {
        "name": "夜间优惠方案",
        "valid_from": "2026-07-01",
        "is_active": "on",
        "notes": "",
        "free_minutes": "15",
        "steps_text": "0-60 2 30\n60- 4 60",
        "day_cap_yuan": "25",
        "peak_windows_text": "07:30-09:30",
        "peak_days": "workday",
        "peak_multiplier_pct": "150",
        "peak_steps_text": "",
        "night_start": "20:00",
        "night_end": "07:00",
        "night_yuan_per_hour": "0.5",
    }
    r = client.post(reverse("admin:parking_tariff_add"), form)
    assert r.status_code == 302, r.content.decode()[:3000]
    t = Tariff.objects.get(name="夜间优惠方案")
    assert t.steps == [
        {"from_minute": 0, "to_minute": 60, "fen_per_hour": 200, "unit_minutes": 30},
        {"from_minute": 60, "to_minute": None, "fen_per_hour": 400, "unit_minutes": 60},
    ]
    assert (t.day_cap_fen, t.peak_multiplier_pct, t.night_fen_per_hour) == (2500, 150, 50)
    bad = client.post(reverse("admin:parking_tariff_add"), form | {"name": "坏方案", "steps_text": "0-60 2 30"})
    assert bad.status_code == 200 and "最后一段不写结束分钟" in bad.content.decode()
    assert not Tariff.objects.filter(name="坏方案").exists()
    # Town staff may read tariffs in the back office but not change them.
    User.objects.filter(pk=personas[Role.TOWN].pk).update(is_staff=True)
    town = login(User.objects.get(pk=personas[Role.TOWN].pk))
    assert town.post(reverse("admin:parking_tariff_add"), form | {"name": "镇里方案"}).status_code == 403
    for name in ("parkinglot", "parkingsession", "parkinganomaly", "tariff"):
        assert client.get(reverse(f"admin:parking_{name}_changelist")).status_code == 200, name
    lots_page = town.get(reverse("admin:parking_parkinglot_changelist")).content.decode()
    assert "金沙路停车场" in lots_page
