"""The parking API: gates post entries and exits by token, retries are harmless, errors have one shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.parking.fees import LOCAL_TZ
from wangge.parking.models import ParkingAnomaly, ParkingSession
from wangge.parking.testing import make_lot

NOW = dt.datetime(2026, 6, 1, 18, 0, tzinfo=LOCAL_TZ)
ERROR_KEYS = {"code", "message", "message_en", "field"}


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lots(tree: Any) -> dict[str, Any]:
    return {
        "inside": make_lot(area=tree.village, name="内停车场", capacity=1, operator=tree.department),
        "outside": make_lot(area=tree.other_town, name="外停车场", capacity=5, operator=tree.other_department),
    }


def client_for(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="道闸 1 号")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, path: str, **body: Any) -> Any:
    return client.post(f"/api/v1/parking/{path}", body, content_type="application/json")


def test_entry_then_exit_answers_the_fee_and_its_explanation(personas: Any, lots: Any) -> None:
    gate = client_for(personas[Role.TOWN])
    lot = lots["inside"]
    r = post(gate, "entries", lot_id=lot.pk, plate="湘A12345", event_id="g1-0001", at="2026-06-01T10:00:00+08:00")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] is True and body["occupancy"] == 1 and body["capacity"] == 1
    assert body["session"]["state"] == "open"
    r = post(gate, "exits", lot_id=lot.pk, plate="湘A12345", event_id="g1-0002", at="2026-06-01T12:30:00+08:00")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["fee_fen"] == 800 and body["fee_yuan"] == "8.00"
    assert body["explanation"].startswith("免费时长 15 分钟")
    assert [line["text"] for line in body["lines"]][1] == "第 1 小时 2.00 元（每 30 分钟 1.00 元 × 2）"
    assert body["session"]["minutes"] == 150


def test_retries_return_the_first_answer(personas: Any, lots: Any) -> None:
    gate = client_for(personas[Role.TOWN])
    lot = lots["inside"]
    event = {"lot_id": lot.pk, "plate": "湘A12345", "event_id": "g1-0001", "at": "2026-06-01T10:00:00+08:00"}
    first = post(gate, "entries", **event)
    again = post(gate, "entries", **event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert again.json()["session"]["id"] == first.json()["session"]["id"]
    out = {"lot_id": lot.pk, "plate": "湘A12345", "event_id": "g1-0002", "at": "2026-06-01T11:00:00+08:00"}
    a, b = post(gate, "exits", **out), post(gate, "exits", **out)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["fee_fen"] == b.json()["fee_fen"] == 200
    assert ParkingSession.objects.count() == 1


def test_exit_without_entry_is_409_in_the_one_error_shape_and_kept(personas: Any, lots: Any) -> None:
    gate = client_for(personas[Role.TOWN])
    r = post(gate, "exits", lot_id=lots["inside"].pk, plate="湘A99999", event_id="g1-9", at="2026-06-01T11:00:00+08:00")
    assert r.status_code == 409
    body = r.json()
    assert set(body) >= ERROR_KEYS
    assert body["code"] == "exit_without_entry" and body["field"] == "plate"
    assert "未找到车辆" in body["message"] and "no entry" in body["message_en"]
    assert ParkingAnomaly.objects.filter(pk=body["anomaly_id"]).exists()


def test_errors_have_one_shape(personas: Any, lots: Any) -> None:
    gate = client_for(personas[Role.TOWN])
    lot = lots["inside"]
    bad_plate = post(gate, "entries", lot_id=lot.pk, plate="ABC", event_id="x1")
    assert bad_plate.status_code == 400 and set(bad_plate.json()) >= ERROR_KEYS
    assert bad_plate.json()["field"] == "plate"
    missing = post(gate, "entries", lot_id=lot.pk, plate="湘A12345")
    assert missing.status_code == 422 and missing.json()["field"] == "event_id"
    naive = post(gate, "entries", lot_id=lot.pk, plate="湘A12345", event_id="x2", at="2026-06-01T10:00:00")
    assert naive.status_code == 400 and naive.json()["field"] == "at"
    post(gate, "entries", lot_id=lot.pk, plate="湘A12345", event_id="x3")
    twice = post(gate, "entries", lot_id=lot.pk, plate="湘A12345", event_id="x4")
    assert twice.status_code == 409 and twice.json()["code"] == "already_parked"
    # The lot has 1 space: the next car is still let in, flagged.
    full = post(gate, "entries", lot_id=lot.pk, plate="湘B12345", event_id="x5")
    assert full.status_code == 201 and full.json()["over_capacity"] is True
    assert Client().post("/api/v1/parking/entries", {}, content_type="application/json").status_code == 401


def test_nobody_records_outside_their_scope(personas: Any, lots: Any) -> None:
    outsider = client_for(personas["outsider"])
    r = post(outsider, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="o1")
    assert r.status_code == 404 and set(r.json()) >= ERROR_KEYS
    auditor = client_for(personas[Role.AUDITOR])
    r = post(auditor, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="a1")
    assert r.status_code == 403
    grid = client_for(personas[Role.GRID_LEADER])
    assert post(grid, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="g1").status_code in (403, 404)
    # The department operating the lot records in it (its wardens), though the lot is not in an area of theirs.
    dept = client_for(personas[Role.DEPARTMENT])
    assert post(dept, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="d1").status_code == 201
    assert ParkingSession.objects.count() == 1


def test_lists_are_scoped_and_plates_masked_for_readers(personas: Any, lots: Any) -> None:
    town = client_for(personas[Role.TOWN])
    post(town, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="t1")
    names = [lot["name"] for lot in town.get("/api/v1/parking/lots").json()]
    assert names == ["内停车场"]
    lot = town.get("/api/v1/parking/lots").json()[0]
    assert lot["occupied"] == 1 and lot["today_sessions"] == 1 and lot["today_turnover"] == 1.0
    assert town.get("/api/v1/parking/sessions").json()[0]["plate"] == "湘A12345"
    auditor = client_for(personas[Role.AUDITOR])
    assert {lot["name"] for lot in auditor.get("/api/v1/parking/lots").json()} == {"内停车场", "外停车场"}
    assert auditor.get("/api/v1/parking/sessions").json()[0]["plate"] == "湘A1**45"
    outsider = client_for(personas["outsider"])
    assert [lot["name"] for lot in outsider.get("/api/v1/parking/lots").json()] == ["外停车场"]
    assert outsider.get("/api/v1/parking/sessions").json() == []
    assert outsider.get(f"/api/v1/parking/sessions?lot_id={lots['inside'].pk}").status_code == 404
    grid = client_for(personas[Role.GRID_LEADER])
    assert grid.get("/api/v1/parking/lots").status_code == 403


def test_occupancy(personas: Any, lots: Any) -> None:
    town = client_for(personas[Role.TOWN])
    lot = lots["inside"]
    post(town, "entries", lot_id=lot.pk, plate="湘A12345", event_id="t1", at="2026-06-01T10:00:00+08:00")
    post(town, "exits", lot_id=lot.pk, plate="湘A12345", event_id="t2", at="2026-06-01T10:30:00+08:00")
    r = town.get(f"/api/v1/parking/occupancy?lot_id={lot.pk}&day=2026-06-01")
    assert r.status_code == 200
    body = r.json()
    assert body["occupied"] == 0 and body["capacity"] == 1
    assert body["hours"][10] == {"hour": 10, "avg_parked": 0.5, "pct": 50.0, "entries": 1}
    outsider = client_for(personas["outsider"])
    assert outsider.get(f"/api/v1/parking/occupancy?lot_id={lot.pk}").status_code == 404


def test_browser_session_posts_need_csrf(personas: Any, lots: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas[Role.TOWN])
    r = post(client, "entries", lot_id=lots["inside"].pk, plate="湘A12345", event_id="s1")
    assert r.status_code in (401, 403)
    assert ParkingSession.objects.count() == 0
