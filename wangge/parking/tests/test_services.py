"""Entries and exits: idempotent on the event id, one stay per plate and lot, anomalies kept, capacity flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.parking import services
from wangge.parking.fees import LOCAL_TZ
from wangge.parking.models import ParkingAnomaly, ParkingSession, SessionState
from wangge.parking.plates import clean_plate, mask_plate
from wangge.parking.selectors import occupancy_now
from wangge.parking.testing import make_lot, make_tariff

NOW = dt.datetime(2026, 6, 1, 18, 0, tzinfo=LOCAL_TZ)


def t(hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, 1, hh, mm, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lot(tree: Any) -> Any:
    return make_lot(area=tree.town, capacity=2)


def enter(lot: Any, plate: str, at: dt.datetime, event: str) -> Any:
    return services.parking_entry(lot=lot, plate=plate, at=at, source="gate", event_id=event)


def leave(lot: Any, plate: str, at: dt.datetime, event: str) -> Any:
    return services.parking_exit(lot=lot, plate=plate, at=at, source="gate", event_id=event)


@pytest.mark.parametrize(
    "raw", ["湘A12345", "湘a12345", "湘A·12345", " 湘A 12345 ", "湘ＡＤ12345", "湘AD12345", "湘A12345D", "京N8F3K2"]
)
def test_chinese_plates_are_accepted_and_normalised(raw: str) -> None:
    plate = clean_plate(raw)
    assert plate == plate.upper() and " " not in plate and "·" not in plate


@pytest.mark.parametrize("raw", ["", "12345", "湘I12345", "XA12345", "湘A1234", "湘A123456", "湘AD123"])
def test_bad_plates_are_refused_in_both_languages(raw: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        clean_plate(raw)
    assert exc.value.field == "plate"
    assert exc.value.zh and exc.value.en


def test_plates_are_masked_like_phones() -> None:
    assert mask_plate("湘A12345") == "湘A1**45"
    assert mask_plate("湘AD12345") == "湘AD***45"


def test_a_stay_is_charged_by_the_lot_tariff(lot: Any) -> None:
    entry = enter(lot, "湘A12345", t(10), "in-1")
    assert entry.created and entry.occupancy == 1
    done = leave(lot, "湘a12345", t(12, 30), "out-1")
    s = done.session
    assert done.created and done.anomaly is None
    assert s.state == SessionState.CLOSED
    assert s.minutes == 150
    assert s.fee_fen == 800  # ¥2 for the first hour + 2 × ¥3 (see the worked examples)
    assert [line["text"] for line in s.breakdown["lines"]][-1] == "合计 8.00 元"
    assert services.fee_text(s).startswith("应收 8.00 元：免费时长 15 分钟")
    assert occupancy_now(lot=lot) == 0


def test_a_retried_entry_returns_the_first_stay(lot: Any) -> None:
    first = enter(lot, "湘A12345", t(10), "gate-7-001")
    again = enter(lot, "湘A12345", t(10, 1), "gate-7-001")
    assert again.created is False
    assert again.session.pk == first.session.pk
    assert again.session.entered_at == t(10)  # the first time wins, the retry changes nothing
    assert ParkingSession.objects.count() == 1


def test_an_event_id_reused_for_another_plate_is_a_conflict(lot: Any) -> None:
    enter(lot, "湘A12345", t(10), "gate-7-001")
    with pytest.raises(Conflict) as exc:
        enter(lot, "湘B54321", t(10), "gate-7-001")
    assert exc.value.field == "event_id"


def test_a_retried_exit_is_charged_once(lot: Any) -> None:
    enter(lot, "湘A12345", t(10), "in-1")
    first = leave(lot, "湘A12345", t(11), "out-1")
    again = leave(lot, "湘A12345", t(11, 5), "out-1")
    assert again.created is False
    assert again.session.pk == first.session.pk
    assert again.session.fee_fen == first.session.fee_fen == 200
    assert again.session.exited_at == t(11)


def test_a_plate_cannot_be_parked_twice_in_one_lot(lot: Any, tree: Any) -> None:
    enter(lot, "湘A12345", t(10), "in-1")
    with pytest.raises(Conflict) as exc:
        enter(lot, "湘A12345", t(11), "in-2")
    assert exc.value.code == "already_parked"
    assert "已在" in exc.value.zh and "is parked in" in exc.value.en
    # Another lot is another place: the same plate may be there (a cloned plate is for the police).
    other = make_lot(area=tree.town, name="另一停车场")
    assert enter(other, "湘A12345", t(11), "in-3").created
    # After leaving, it may come back.
    leave(lot, "湘A12345", t(12), "out-1")
    assert enter(lot, "湘A12345", t(13), "in-4").created


def test_an_exit_without_entry_is_kept_as_an_anomaly_with_a_bilingual_error(lot: Any) -> None:
    done = leave(lot, "湘A99999", t(12), "out-x")
    assert done.session is None
    assert done.anomaly is not None and done.anomaly.kind == "exit_without_entry"
    error = done.error
    assert error is not None and error.status == 409 and error.code == "exit_without_entry"
    assert "未找到车辆 湘A99999" in error.zh and "no entry of 湘A99999" in error.en
    # The gate retries the same event: the same anomaly, not a second one.
    again = leave(lot, "湘A99999", t(12), "out-x")
    assert again.anomaly is not None and again.anomaly.pk == done.anomaly.pk and again.created is False
    assert ParkingAnomaly.objects.count() == 1
    assert occupancy_now(lot=lot) == 0  # never below zero


def test_a_full_lot_still_records_the_car_and_flags_it(lot: Any) -> None:
    assert enter(lot, "湘A00001", t(9), "a").over_capacity is False
    assert enter(lot, "湘A00002", t(9, 5), "b").over_capacity is False
    third = enter(lot, "湘A00003", t(9, 10), "c")
    assert third.over_capacity is True  # cars do get in; the warden sees the flag
    assert third.occupancy == 3 and third.capacity == 2
    leave(lot, "湘A00001", t(10), "a-out")
    assert occupancy_now(lot=lot) == 2
    assert enter(lot, "湘A00004", t(10, 5), "d").over_capacity is True
    leave(lot, "湘A00002", t(11), "b-out")
    leave(lot, "湘A00003", t(11), "c-out")
    assert enter(lot, "湘A00005", t(11, 5), "e").over_capacity is False


def test_exit_before_entry_is_refused_and_nothing_changes(lot: Any) -> None:
    enter(lot, "湘A12345", t(10), "in-1")
    with pytest.raises(ValidationFailed) as exc:
        leave(lot, "湘A12345", t(9), "out-1")
    assert exc.value.field == "at"
    assert ParkingSession.objects.get().state == SessionState.OPEN


def test_times_in_the_future_are_refused(lot: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        enter(lot, "湘A12345", NOW + dt.timedelta(hours=1), "in-1")
    assert exc.value.field == "at"
    # A gate clock a minute ahead is drift, not an error.
    assert enter(lot, "湘A12345", NOW + dt.timedelta(minutes=1), "in-2").created


def test_unknown_source_and_empty_event_id_are_refused(lot: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.parking_entry(lot=lot, plate="湘A12345", at=t(10), source="drone", event_id="x")
    assert exc.value.field == "source"
    with pytest.raises(ValidationFailed) as exc:
        services.parking_entry(lot=lot, plate="湘A12345", at=t(10), source="gate", event_id=" ")
    assert exc.value.field == "event_id"


def test_an_inactive_lot_takes_no_entries(lot: Any) -> None:
    services.lot_update(lot=lot, is_active=False)
    with pytest.raises(PermissionDenied):
        enter(lot, "湘A12345", t(10), "in-1")


def test_void_leaves_occupancy(lot: Any) -> None:
    s = enter(lot, "湘A12345", t(10), "in-1").session
    with pytest.raises(ValidationFailed):
        services.parking_session_void(session=s, reason=" ")
    services.parking_session_void(session=s, reason="车牌录错")
    assert occupancy_now(lot=lot) == 0
    with pytest.raises(Conflict):
        services.parking_session_void(session=s, reason="again")
    # The plate may enter again after its wrong stay was voided.
    assert enter(lot, "湘A12345", t(11), "in-2").created


def test_lot_rules(tree: Any) -> None:
    tariff = make_tariff()
    with pytest.raises(ValidationFailed) as exc:
        services.lot_create(name="网格停车场", kind="surface", capacity=5, area=tree.grid, tariff=tariff)
    assert exc.value.field == "area"
    with pytest.raises(ValidationFailed) as exc:
        services.lot_create(name="零泊位", kind="surface", capacity=0, area=tree.town, tariff=tariff)
    assert exc.value.field == "capacity"
    lot = services.lot_create(name="甲停车场", kind="surface", capacity=5, area=tree.village, tariff=tariff)
    assert lot.area_path == tree.village.path
    with pytest.raises(Conflict):
        services.lot_create(name="甲停车场", kind="surface", capacity=5, area=tree.village, tariff=tariff)
    services.lot_update(lot=lot, area=tree.other_town)
    lot.refresh_from_db()
    assert lot.area_path == tree.other_town.path


def test_tariff_names_are_unique_and_rules_checked(db: Any) -> None:
    make_tariff(name="甲")
    with pytest.raises(Conflict):
        make_tariff(name="甲")
    from wangge.parking.fees import Step

    with pytest.raises(ValidationFailed):
        make_tariff(name="乙", steps=[Step(0, 60, 200, 30)])  # not open-ended
    with pytest.raises(ValidationFailed) as exc:
        make_tariff(name="丙", peak_multiplier_pct=50)
    assert exc.value.field == "peak_multiplier_pct"
