"""Demo parking: lots in the city's towns, plausible stays charged by the same fee function, run once."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count

from wangge.parking import demo
from wangge.parking.fees import LOCAL_TZ, fee_for
from wangge.parking.models import ParkingLot, ParkingSession, SessionState, Tariff

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def test_seed_builds_lots_and_stays_that_keep_the_rules(tree: Any) -> None:
    counts = demo.seed(tree.city, days=2)
    assert counts["lots"] == 6 and counts["sessions"] > 500
    lots = ParkingLot.objects.all()
    assert {lot.area_path.split("/")[1] for lot in lots} == {tree.town.code, tree.other_town.code}
    assert Tariff.objects.filter(is_active=False).count() == 1  # the proposal kept for the what-if page
    sessions = ParkingSession.objects.all()
    assert not sessions.filter(entered_at__gt=NOW).exists()
    assert not sessions.filter(entered_at__lt=NOW - dt.timedelta(days=2)).exists()
    # Still parked: no exit, no fee; at most one open stay per plate and lot.
    open_ = sessions.filter(state=SessionState.OPEN)
    assert open_.exists() and not open_.filter(fee_fen__isnull=False).exists()
    assert not open_.values("lot", "plate").annotate(n=Count("id")).filter(n__gt=1).exists()
    # Every closed stay is charged exactly as the gate would charge it.
    for s in sessions.filter(state=SessionState.CLOSED).select_related("lot__tariff")[:200]:
        assert s.exited_at >= s.entered_at
        assert s.fee_fen == fee_for(s.lot.tariff, s.entered_at, s.exited_at).total_fen
    # Lots mostly fill but rarely overflow: a car squeezing into a full lot is the exception.
    assert sessions.filter(over_capacity=True).count() < sessions.count() * 0.02
    # A second run leaves the city alone.
    assert demo.seed(tree.city, days=2)["lots"] == 0
    assert ParkingLot.objects.count() == 6


def test_seed_parking_command(tree: Any) -> None:
    out = StringIO()
    call_command("seed_parking", "--days", "1", stdout=out)
    assert "停车演示数据已生成" in out.getvalue()
    out = StringIO()
    call_command("seed_parking", "--days", "1", stdout=out)
    assert "跳过" in out.getvalue()


def test_seed_parking_needs_a_city(db: Any) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("seed_parking", stdout=StringIO())
    assert "seed_demo" in str(exc.value)
