"""Coverage on a hand-computed fixture, the order of households by last visit, and scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.accounts.models import Role
from wangge.registry.services import household_move
from wangge.registry.testing import make_household
from wangge.visits import selectors
from wangge.visits.testing import make_visit

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=SH)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def fixture(tree: Any, personas: Any) -> dict[str, Any]:
    """Grid 1: a (visited this month twice), b (only last month), c (never).
    Grid 2 (sibling): d (this month, just after local midnight on the 1st), e (never).
    Other town: f (this month) — outside everyone's scope but the outsider's.

    By hand, for April 2026: grid 1 = 3 households, 1 this month, 1 never; grid 2 = 2, 1, 1;
    branch = 5, 2, 2. Months are local: the visit at 00:30 on 1 April (Shanghai) is 16:30 UTC on
    31 March and counts for April; the one at 23:30 on 31 March counts for March.
    """
    leader, town, outsider = personas[Role.GRID_LEADER], personas[Role.TOWN], personas["outsider"]
    h = {name: make_household(grid=tree.grid, head_name=name) for name in "abc"}
    h.update({name: make_household(grid=tree.sibling_grid, head_name=name) for name in "de"})
    h["f"] = make_household(grid=tree.other_grid, head_name="f")
    with time_machine.travel(NOW, tick=False):
        make_visit(visitor=leader, household=h["a"], visited_at=at(2026, 4, 3, 9, 0))
        make_visit(visitor=leader, household=h["a"], visited_at=at(2026, 4, 10, 9, 0))
        make_visit(visitor=leader, household=h["b"], visited_at=at(2026, 3, 31, 23, 30))
        make_visit(visitor=town, household=h["d"], visited_at=at(2026, 4, 1, 0, 30))
        make_visit(visitor=outsider, household=h["f"], visited_at=at(2026, 4, 2, 10, 0))
    return h


def numbers(row: selectors.CoverageRow) -> tuple[int, int, int]:
    return (row.households, row.visited_this_month, row.never_visited)


def test_coverage_by_grid_matches_the_hand_count(fixture: Any, tree: Any, personas: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        cover = selectors.coverage(user=personas[Role.BRANCH], parent=tree.branch)
    by_area = {r.area: numbers(r) for r in cover.rows}
    assert by_area == {tree.grid: (3, 1, 1), tree.sibling_grid: (2, 1, 1)}
    assert numbers(cover.total) == (5, 2, 2)
    assert cover.total.percent == 40
    assert cover.month_start == at(2026, 4, 1)


def test_coverage_rolls_up_each_level(fixture: Any, tree: Any, personas: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        town = selectors.coverage(user=personas[Role.TOWN])
        village = selectors.coverage(user=personas[Role.TOWN], parent=tree.town)
        city = selectors.coverage(user=personas[Role.CITY_ADMIN], parent=tree.city)
        grid = selectors.coverage(user=personas[Role.GRID_LEADER])
    assert [(r.area, numbers(r)) for r in town.rows] == [(tree.town, (5, 2, 2))]
    assert [(r.area, numbers(r)) for r in village.rows] == [(tree.village, (5, 2, 2))]
    assert {r.area: numbers(r) for r in city.rows} == {tree.town: (5, 2, 2), tree.other_town: (1, 1, 0)}
    assert [(r.area, numbers(r)) for r in grid.rows] == [(tree.grid, (3, 1, 1))]


def test_last_month_is_counted_as_its_own_month(fixture: Any, tree: Any, personas: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        march = selectors.coverage(user=personas[Role.BRANCH], parent=tree.branch, day=dt.date(2026, 3, 5))
    assert {r.area: r.visited_this_month for r in march.rows} == {tree.grid: 1, tree.sibling_grid: 0}


def test_coverage_follows_the_household_to_its_new_grid(fixture: Any, tree: Any, personas: Any) -> None:
    household_move(household=fixture["a"], grid=tree.sibling_grid)
    with time_machine.travel(NOW, tick=False):
        cover = selectors.coverage(user=personas[Role.BRANCH], parent=tree.branch)
    assert {r.area: numbers(r) for r in cover.rows} == {tree.grid: (2, 0, 1), tree.sibling_grid: (3, 2, 1)}


def test_coverage_takes_a_fixed_number_of_queries(fixture: Any, tree: Any, personas: Any) -> None:
    user = personas[Role.CITY_ADMIN]
    selectors.coverage(user=user, parent=tree.branch)  # the scope is read once per user and kept
    with CaptureQueriesContext(connection) as small:
        selectors.coverage(user=user, parent=tree.branch)
    for n in range(20):
        make_household(grid=tree.grid if n % 2 else tree.sibling_grid)
    with CaptureQueriesContext(connection) as large:
        selectors.coverage(user=user, parent=tree.branch)
    assert len(small) == len(large) == 2


def test_households_never_visited_come_first_then_the_oldest(fixture: Any, personas: Any) -> None:
    rows = list(selectors.households_by_last_visit(user=personas[Role.GRID_LEADER]))
    assert [h.head_name for h in rows] == ["c", "b", "a"]
    assert rows[0].last_visited_at is None
    assert rows[2].last_visited_at == at(2026, 4, 10, 9, 0)


def test_visits_and_opinions_are_read_inside_the_scope(fixture: Any, personas: Any, tree: Any) -> None:
    make_visit(visitor=personas["outsider"], household=fixture["f"], opinions=[{"text": "外镇意见"}])
    make_visit(visitor=personas[Role.GRID_LEADER], household=fixture["c"], opinions=[{"text": "本网格意见"}])
    leader_visits = selectors.visit_list(user=personas[Role.GRID_LEADER])
    assert {v.household.head_name for v in leader_visits} == {"a", "b", "c"}
    assert {v.household.head_name for v in selectors.visit_list(user=personas[Role.TOWN])} == {"a", "b", "c", "d"}
    assert {v.household.head_name for v in selectors.visit_list(user=personas["outsider"])} == {"f"}
    assert not selectors.visit_list(user=personas[Role.DEPARTMENT]).exists()
    assert [o.text for o in selectors.opinion_list(user=personas[Role.BRANCH])] == ["本网格意见"]
    assert [o.text for o in selectors.opinion_list(user=personas["outsider"])] == ["外镇意见"]
    assert len(selectors.opinion_list(user=personas[Role.AUDITOR])) == 2
    outside = selectors.visit_list(user=personas["outsider"]).first()
    assert outside is not None
    with pytest.raises(Exception) as err:
        selectors.visit_get(user=personas[Role.TOWN], pk=outside.pk)
    assert err.value.__class__.__name__ == "NotFound"
