"""Turnover, average stay, revenue and hourly occupancy on a small fixture, every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.accounts.models import Role
from wangge.parking import selectors, services
from wangge.parking.fees import LOCAL_TZ
from wangge.parking.models import Zone
from wangge.parking.testing import make_lot
from wangge.parking.whatif import replay
from wangge.registry.testing import make_user

D1 = dt.date(2026, 6, 1)
D2 = dt.date(2026, 6, 2)
NOW = dt.datetime(2026, 6, 3, 9, 0, tzinfo=LOCAL_TZ)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=LOCAL_TZ)


@pytest.fixture
def city_user(tree: Any) -> Any:
    return make_user(role=Role.CITY_ADMIN, areas=[tree.city])


@pytest.fixture
def fixture_lots(tree: Any) -> dict[str, Any]:
    """Lot A (4 spaces, ordinary) and lot B (2 spaces, core), with stays on 1 and 2 June 2026.

    Lot A, under the standard tariff (15 free minutes, ¥2 first hour in halves, ¥3 hours 2–3):
      June 1: 10:00–11:30 (90 min, ¥5), 10:30–11:00 (30 min, ¥1), 14:00–14:10 (10 min, free)
      June 2: 09:00–10:00 (60 min, ¥2), 09:00–09:45 (45 min, ¥2), 12:00–13:00 (60 min, ¥2),
              16:00–18:00 (120 min, ¥5), 20:00 still parked on 3 June at 09:00
      and one stay voided on June 2 (counts for nothing).
    Lot B: June 2: 08:00–09:00 (60 min, ¥2).
    """
    a = make_lot(area=tree.town, name="甲", capacity=4, zone=Zone.ORDINARY)
    b = make_lot(area=tree.village, name="乙", capacity=2, zone=Zone.CORE)
    n = iter(range(1000))

    def stay(lot: Any, plate: str, start: dt.datetime, end: dt.datetime | None) -> Any:
        s = services.parking_entry(lot=lot, plate=plate, at=start, source="gate", event_id=f"e{next(n)}").session
        if end is not None:
            services.parking_exit(lot=lot, plate=plate, at=end, source="gate", event_id=f"e{next(n)}")
        return s

    with time_machine.travel(NOW, tick=False):
        stay(a, "湘A00001", at(D1, 10), at(D1, 11, 30))
        stay(a, "湘A00002", at(D1, 10, 30), at(D1, 11))
        stay(a, "湘A00003", at(D1, 14), at(D1, 14, 10))
        stay(a, "湘A00004", at(D2, 9), at(D2, 10))
        stay(a, "湘A00005", at(D2, 9), at(D2, 9, 45))
        stay(a, "湘A00006", at(D2, 12), at(D2, 13))
        stay(a, "湘A00007", at(D2, 16), at(D2, 18))
        stay(a, "湘A00008", at(D2, 20), None)
        wrong = stay(a, "湘A00009", at(D2, 11), None)
        services.parking_session_void(session=wrong, reason="录错")
        stay(b, "湘B00001", at(D2, 8), at(D2, 9))
    return {"a": a, "b": b}


@pytest.fixture(autouse=True)
def _clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def test_turnover_average_stay_and_revenue_by_lot(city_user: Any, fixture_lots: Any) -> None:
    figures = {f.label: f for f in selectors.measures_by_lot(user=city_user, start=D1, end=D2)}
    a = figures["甲"]
    # 8 stays began in lot A over 2 days (the void one does not count): 8 / (4 spaces × 2 days) = 1.0.
    assert a.sessions == 8
    assert a.turnover == 1.0
    # 7 ended: (90 + 30 + 10 + 60 + 45 + 60 + 120) / 7 = 415 / 7 = 59.3 minutes.
    assert a.closed == 7
    assert a.avg_minutes == 59.3
    # ¥5 + ¥1 + ¥0 + ¥2 + ¥2 + ¥2 + ¥5 = ¥17.
    assert a.revenue_fen == 1700
    assert a.avg_fee_fen == 243  # 1700 / 7 = 242.9
    b = figures["乙"]
    # 1 stay / (2 spaces × 2 days) = 0.25.
    assert (b.sessions, b.turnover, b.revenue_fen, b.avg_minutes) == (1, 0.25, 200, 60.0)


def test_figures_by_day(city_user: Any, fixture_lots: Any) -> None:
    days = selectors.measures_by_day(user=city_user, start=D1, end=D2, lot=fixture_lots["a"])
    assert [d.key for d in days] == ["2026-06-01", "2026-06-02"]
    # June 1: 3 stays / 4 spaces = 0.75; ¥6; (90 + 30 + 10) / 3 = 43.3 minutes.
    assert (days[0].sessions, days[0].turnover, days[0].revenue_fen, days[0].avg_minutes) == (3, 0.75, 600, 43.3)
    # June 2: 5 stays / 4 spaces = 1.25; ¥11; (60 + 45 + 60 + 120) / 4 = 71.3 minutes.
    assert (days[1].sessions, days[1].turnover, days[1].revenue_fen, days[1].avg_minutes) == (5, 1.25, 1100, 71.3)


def test_figures_by_zone(city_user: Any, fixture_lots: Any) -> None:
    zones = {f.key: f for f in selectors.measures_by_zone(user=city_user, start=D1, end=D2)}
    assert zones["ordinary"].capacity == 4 and zones["ordinary"].turnover == 1.0
    assert zones["core"].capacity == 2 and zones["core"].turnover == 0.25
    assert zones["core"].revenue_fen == 200


def test_hourly_occupancy(city_user: Any, fixture_lots: Any) -> None:
    hours = selectors.hourly_occupancy(user=city_user, lot=fixture_lots["a"], day=D1)
    # 10:00–11:00: car 1 all 60 minutes, car 2 from 10:30 to 11:00 (30) → 90 / 60 = 1.5 cars on average.
    assert hours[10]["avg_parked"] == 1.5 and hours[10]["entries"] == 2
    assert hours[10]["pct"] == 37.5  # 1.5 of 4 spaces
    # 11:00–12:00: car 1 until 11:30 → 0.5.
    assert hours[11]["avg_parked"] == 0.5 and hours[11]["entries"] == 0
    # 14:00–15:00: 10 minutes → 0.17.
    assert hours[14]["avg_parked"] == 0.17
    assert hours[9]["avg_parked"] == 0.0
    june2 = selectors.hourly_occupancy(user=city_user, lot=fixture_lots["a"], day=D2)
    # 09:00–10:00: car 4 for 60 and car 5 for 45 → 105 / 60 = 1.75; the void stay at 11:00 counts for nothing.
    assert june2[9]["avg_parked"] == 1.75
    assert june2[11]["avg_parked"] == 0.0
    # The car still parked since 20:00 fills 20:00–24:00.
    assert [june2[h]["avg_parked"] for h in (20, 21, 22, 23)] == [1.0, 1.0, 1.0, 1.0]


def test_measures_are_aggregate_queries_not_loops(city_user: Any, fixture_lots: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        selectors.measures_by_lot(user=city_user, start=D1, end=D2)
    lot_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        selectors.hourly_occupancy(user=city_user, lot=fixture_lots["a"], day=D1)
    hourly_queries = len(ctx.captured_queries)
    # Scope rows (1), the lots (1) and the one grouped query; the hourly chart is the lot lookup + one query of 48 sums.
    assert lot_queries <= 3
    assert hourly_queries <= 3


def test_live_figures_on_the_lots_list(city_user: Any, fixture_lots: Any) -> None:
    with time_machine.travel(at(D2, 21), tick=False):
        lots = {lot.name: lot for lot in selectors.lots_with_live_figures(user=city_user)}
    a = lots["甲"]
    assert a.occupied == 1  # the car that entered at 20:00
    assert a.today_sessions == 5
    assert a.today_turnover == 1.25
    assert a.today_revenue_fen == 1100


def test_what_if_replays_the_same_stays(city_user: Any, fixture_lots: Any) -> None:
    from wangge.parking.fees import Step, TariffRules

    # Proposed: the same hour 1, then ¥6 an hour from the second hour.
    proposed = TariffRules(steps=(Step(0, 60, 200, 30), Step(60, None, 600, 60)), free_minutes=15)
    lots = selectors.lot_list(user=city_user).filter(name="甲")
    result = replay(lots=lots, start=D1, end=D2, proposed=proposed, proposed_label="试行", elasticity=-0.3)
    # The 7 ended stays, current: ¥17. Proposed: 90 → ¥2 + ¥6 = ¥8; 30 → ¥1; 10 → 0; 60 → ¥2; 45 → ¥2;
    # 60 → ¥2; 120 → ¥2 + ¥6 = ¥8. Total ¥23.
    assert result.current.sessions == result.proposed.sessions == 7
    assert result.current.revenue_fen == 1700
    assert result.proposed.revenue_fen == 2300
    assert result.current.free == result.proposed.free == 1
    # Average fee 1700/7 = 243 → 2300/7 = 329: +35.4 %; stays × (1 − 0.3 × 0.354) = 0.894; turnover ÷ 0.894.
    assert result.price_change == pytest.approx(329 / 243 - 1)
    assert result.turnover_now == 0.88  # 7 / (4 × 2)
    assert result.turnover_expected == round(0.88 / (1 - 0.3 * (329 / 243 - 1)), 2)
    assert result.turnover_change_pct == pytest.approx(11.9, abs=0.1)
    assert "弹性为 -0.3" in result.assumption
    counts = {b["label"]: b["count"] for b in result.proposed.bands}
    assert counts == {"免费": 1, "0–2 元": 4, "2–5 元": 0, "5–10 元": 2, "10–20 元": 0, "20 元以上": 0}
