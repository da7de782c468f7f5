"""The incremental rollups equal a full rebuild after any sequence of changes (hypothesis).

Random demands are built (test_measures' random histories), rolled up, then changed at random the
way the services change them (each change appends an event, which is how the worker learns of
it), refreshed by the worker's hook between some of the changes, and finally compared row for row
(every counter, sum and histogram) with `rollup_rebuild` over the same demands.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.core.testing import run_threads
from wangge.dashboards import services
from wangge.dashboards.models import COUNTERS, HISTOGRAMS, SUMS, DemandRollup
from wangge.dashboards.tests.test_measures import RANDOM_STATES, _random_demands
from wangge.demands.models import CallBack, Category, Channel, Demand, DemandEvent
from wangge.demands.sla import LOCAL_TZ

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL_TZ)
KINDS = ("state", "area", "category", "channel", "department", "accept", "resolve", "rate", "event", "callback", "due")
EVENT_ACTIONS = ("reopen", "return_", "auto_escalate", "verify_back", "reject")

changes = st.lists(
    st.tuples(st.integers(0, 29), st.sampled_from(KINDS), st.integers(0, 10_000), st.booleans()),
    min_size=1,
    max_size=10,
)


def _rows() -> list[tuple[Any, ...]]:
    names = ("day", "key", "level", "area_id", "area_path", "department_id", "cut", "category_id", "channel")
    rows = DemandRollup.objects.values_list(*names, *COUNTERS, *SUMS, *HISTOGRAMS)
    return sorted(tuple(sorted(v.items()) if isinstance(v, dict) else v for v in row) for row in rows)


def _change(demand: Demand, kind: str, n: int, tree: Any) -> None:
    """One change of a demand's columns (or one more event or call back), and the event that says so."""
    fields: dict[str, Any] = {}
    areas = [tree.grid, tree.sibling_grid, tree.other_grid, tree.village, tree.branch, tree.other_town]
    minutes = dt.timedelta(minutes=n)
    if kind == "state":
        fields["state"] = RANDOM_STATES[n % len(RANDOM_STATES)]
    elif kind == "area":
        area = areas[n % len(areas)]
        fields.update(area=area, area_path=area.path)
    elif kind == "category":
        options = [*Category.objects.filter(parent__isnull=False).order_by("pk")[:4], None]
        fields["category"] = options[n % len(options)]
    elif kind == "channel":
        fields["channel"] = Channel.values[n % len(Channel.values)]
    elif kind == "department":
        fields["dispatched_department"] = [tree.department, tree.other_department, None][n % 3]
    elif kind == "accept":
        fields["accepted_at"] = demand.created_at + minutes if n % 4 else None
    elif kind == "resolve":
        fields["resolved_at"] = demand.created_at + minutes if n % 4 else None
    elif kind == "rate":
        fields["satisfaction"] = ["satisfied", "basic", "unsatisfied", None][n % 4]
        fields["rated_at"] = demand.created_at + minutes if fields["satisfaction"] else None
    elif kind == "callback":
        CallBack.objects.create(
            demand=demand, at=demand.created_at + minutes, reached=bool(n % 3), satisfaction="basic", solved=bool(n % 2)
        )
    elif kind == "due":
        # Before or after the frozen now: the limit passes by time alone, or not yet.
        fields["resolve_due_at"] = NOW + dt.timedelta(minutes=(n % 2000) - 1000)
    if fields:
        Demand.objects.filter(pk=demand.pk).update(**fields)
    action = EVENT_ACTIONS[n % len(EVENT_ACTIONS)] if kind == "event" else "comment"
    # At the frozen now, or at the demand's arrival for the random demands received after it: an event
    # is never dated before its demand (the services stamp it at the change). The refresh reads a
    # demand's events from a day before its arrival only (fact_sql: the events' months are pruned).
    at = max(NOW, demand.created_at)
    DemandEvent.objects.create(demand=demand, at=at, action=action, to_state=fields.get("state", demand.state))


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=changes)
def test_incremental_rollups_equal_a_full_rebuild(tree: Any, steps: list[tuple[int, str, int, bool]]) -> None:
    with transaction.atomic(), time_machine.travel(NOW, tick=False):
        _random_demands(tree, 30, seed=5)
        services.rollup_rebuild()
        demands = list(Demand.objects.order_by("code"))
        for index, kind, n, refresh in steps:
            _change(demands[index], kind, n, tree)
            if refresh:
                services.rollup_refresh_recent()
        services.rollup_refresh_recent()
        incremental = _rows()
        assert incremental  # the random demands give rows to compare
        services.rollup_rebuild()
        assert incremental == _rows()
        transaction.set_rollback(True)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_move_the_rows_once(tree: Any) -> None:
    """Deltas are applied exactly once: two workers refreshing the same changes together (each reads the
    old facts, one waits on the other's row locks) leave the rows a rebuild gives."""
    with time_machine.travel(NOW, tick=False):
        _random_demands(tree, 30, seed=11)
        services.rollup_rebuild()
        for n, demand in enumerate(Demand.objects.order_by("code")[:20]):
            _change(demand, KINDS[n % len(KINDS)], 37 * n + 5, tree)
        results = run_threads(2, lambda _i: services.rollup_refresh_recent())
        assert not [r for r in results if isinstance(r, Exception)]
        assert sum(r.demands for r in results) >= 20  # both read the changed demands
        incremental = _rows()
        services.rollup_rebuild()
        assert incremental == _rows()
