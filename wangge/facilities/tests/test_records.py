"""A director's record, checked against figures computed by hand for a small fixture.

The sanitation staff (twice a week, from Monday 2 March 2026) over the window 2–23 March:
  week of 2 Mar:  Mon 10:00 (floor fails → demand D1), Thu 10:00 (floor fails again → D1 reused)   2/2 met
  week of 9 Mar:  Sun 15 Mar 23:30 Shanghai (passes; 15:30 UTC, still that week)                  1/2 missed
  week of 16 Mar: Mon 16 Mar 00:10 Shanghai (16:10 UTC on the 15th), Wed, Fri (lighting fails → D2) 3/2 met
  Mon 23 Mar 09:00: outside the window.
=> required 6, done 6, 2 of 3 weeks met (66.67 %), failures 3, demands raised 2, resolved 1 (D1).
The cleaner (daily from Monday 16 March) checks every day but Thursday 19th: 6 of 7 days, one missed flag.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.demands.services import demand_accept, demand_resolve
from wangge.facilities.models import DirectorLevel
from wangge.facilities.selectors import director_records
from wangge.facilities.services import inspection_flag_missed
from wangge.facilities.testing import make_director, make_director_user, make_facility, make_inspection

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
D = dt.date


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def _inspect(director: Any, when: dt.datetime, actor: Any, failed: dict[str, str] | None = None) -> Any:
    with time_machine.travel(when, tick=False):
        return make_inspection(director=director, actor=actor, failed=failed)


@pytest.fixture
def fixture(tree: Any, personas: Any) -> dict[str, Any]:
    toilet = make_facility(area=tree.grid, name="金沙路公厕")
    staff = make_director_user(facility=toilet, level=DirectorLevel.SANITATION_STAFF, since=D(2026, 3, 2))
    cleaner = make_director(facility=toilet, level=DirectorLevel.CLEANER, name="李保洁", since=D(2026, 3, 16))
    u = staff.user
    first = _inspect(staff, at(D(2026, 3, 2), 10), u, {"floor": "积水"})
    _inspect(staff, at(D(2026, 3, 5), 10), u, {"floor": "仍积水"})
    _inspect(staff, at(D(2026, 3, 15), 23, 30), u)
    _inspect(staff, at(D(2026, 3, 16), 0, 10), u)
    _inspect(staff, at(D(2026, 3, 18), 10), u)
    _inspect(staff, at(D(2026, 3, 20), 10), u, {"lighting": "灯不亮"})
    _inspect(staff, at(D(2026, 3, 23), 9), u, {"signage": "outside the window"})
    town = personas[Role.TOWN]
    for day in (16, 17, 18, 20, 21, 22):
        _inspect(cleaner, at(D(2026, 3, day), 7), town)
    leader = personas[Role.GRID_LEADER]
    d1 = first.items.get(passed=False).demand
    with time_machine.travel(at(D(2026, 3, 21), 9), tick=False):
        demand_accept(demand=d1, actor=leader)
        demand_resolve(demand=d1, actor=leader, result="已疏通地漏")
    with time_machine.travel(at(D(2026, 3, 20), 2), tick=False):
        inspection_flag_missed(now=clock.now())  # flags Thursday 19th for the cleaner
    return {"staff": staff, "cleaner": cleaner}


def test_the_record_matches_the_hand_computed_figures(fixture: Any, personas: Any) -> None:
    with time_machine.travel(at(D(2026, 3, 23), 12), tick=False):
        records = {
            r.director.pk: r
            for r in director_records(user=personas[Role.TOWN], since=D(2026, 3, 2), until=D(2026, 3, 23))
        }
    staff = records[fixture["staff"].pk]
    assert [(p.start, p.done, p.required) for p in staff.periods] == [
        (D(2026, 3, 2), 2, 2),
        (D(2026, 3, 9), 1, 2),
        (D(2026, 3, 16), 3, 2),
    ]
    assert (staff.required, staff.done, staff.periods_met) == (6, 6, 2)
    assert staff.on_time_rate == pytest.approx(0.6667)
    assert (staff.failures, staff.demands_raised, staff.demands_resolved) == (3, 2, 1)
    cleaner = records[fixture["cleaner"].pk]
    assert (len(cleaner.periods), cleaner.done, cleaner.periods_met) == (7, 6, 6)
    assert [p.start for p in cleaner.periods if not p.met] == [D(2026, 3, 19)]
    assert cleaner.missed == 1
    assert (cleaner.failures, cleaner.demands_raised) == (0, 0)


def test_the_record_uses_a_fixed_number_of_queries(
    fixture: Any, personas: Any, django_assert_max_num_queries: Any
) -> None:
    user = personas[Role.CITY_ADMIN]
    with django_assert_max_num_queries(8):
        records = director_records(user=user, since=D(2026, 3, 2), until=D(2026, 3, 23))
        assert len(records) == 2


def test_the_record_is_scoped(fixture: Any, personas: Any) -> None:
    assert director_records(user=personas["outsider"], since=D(2026, 3, 2), until=D(2026, 3, 23)) == []
    # The director sees their own record though their town scope is elsewhere.
    own = director_records(user=fixture["staff"].user, since=D(2026, 3, 2), until=D(2026, 3, 23))
    assert fixture["staff"].pk in {r.director.pk for r in own}
