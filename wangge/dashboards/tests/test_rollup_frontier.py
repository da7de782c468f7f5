"""The worker's refresh reads each event once, and an event whose id it passed before the event committed later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wangge.dashboards import services
from wangge.dashboards.models import DemandFacts, RollupState
from wangge.dashboards.services.rollup_frontier import MAX_RANGES, Frontier, advance, frontier_of
from wangge.demands.models import DemandEvent
from wangge.demands.testing import make_demand

T0 = dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)


def test_the_ids_not_seen_stay_pending_until_seen_or_too_old(settings: Any) -> None:
    settings.DASHBOARD_ROLLUP_PENDING_SECONDS = 600
    f = advance(Frontier(top=10), [11, 12, 15, 18], T0)
    assert f.top == 18
    assert f.pending == [[13, 14, int(T0.timestamp())], [16, 17, int(T0.timestamp())]]
    # 14 and 16 come (late commits), 13 and 17 still not; 19 and 21 are new.
    later = T0 + dt.timedelta(minutes=5)
    g = advance(f, [14, 16, 19, 21], later)
    assert g.top == 21
    assert g.pending == [
        [13, 13, int(T0.timestamp())],
        [17, 17, int(T0.timestamp())],
        [20, 20, int(later.timestamp())],
    ]
    # Past the keep time the ranges first missed at T0 go; 20 stays.
    h = advance(g, [], T0 + dt.timedelta(minutes=11))
    assert h.top == 21 and h.pending == [[20, 20, int(later.timestamp())]]
    # Nothing new and nothing pending: an empty read leaves the top.
    assert advance(Frontier(top=21), [], later) == Frontier(top=21)


def test_too_many_ranges_are_joined_so_that_no_id_is_dropped() -> None:
    seen = list(range(2, 4 * MAX_RANGES, 2))  # every other id missing
    f = advance(Frontier(top=0), seen, T0)
    assert len(f.pending) <= MAX_RANGES
    missing = {i for i in range(1, seen[-1]) if i not in seen}
    covered = {i for lo, hi, _at in f.pending for i in range(lo, hi + 1)}
    assert missing <= covered


def test_a_state_without_ranges_for_its_top_reads_the_margin_once(settings: Any) -> None:
    settings.DASHBOARD_ROLLUP_ID_MARGIN = 100
    assert frontier_of({}, "events", 500) == Frontier(top=400)
    kept = Frontier(top=500, pending=[[450, 451, 1]])
    assert frontier_of({"events": kept.to_json()}, "events", 500) == kept
    # A full build moved the top without ranges: the margin again.
    assert frontier_of({"events": kept.to_json()}, "events", 900) == Frontier(top=800)


@pytest.mark.django_db
def test_an_event_committed_late_under_the_top_is_caught_and_nothing_is_read_twice(tree: Any, settings: Any) -> None:
    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0  # (ids below the build's top that other tests took are not pending)
    make_demand(grid=tree.grid)
    services.rollup_refresh_recent()  # the first build
    services.rollup_refresh_recent()  # reads the margin below the build's top once
    late, early = make_demand(grid=tree.grid), make_demand(grid=tree.grid)
    # `late`'s event has its id but is not committed when the refresh looks: taken out, put back after.
    event = late.events.get()
    DemandEvent.objects.filter(pk=event.pk).delete()
    report = services.rollup_refresh_recent()
    assert report.demands == 1 and DemandFacts.objects.filter(demand_id=early.pk).exists()
    state = RollupState.objects.get(name="demands")
    assert state.last_event_id == early.events.get().pk
    assert [r[:2] for r in state.pending["events"]["ranges"]] == [[event.pk, event.pk]]
    event.save(force_insert=True)  # committed now, below the highest id read
    report = services.rollup_refresh_recent()
    assert report.demands == 1 and DemandFacts.objects.filter(demand_id=late.pk).exists()
    assert RollupState.objects.get(name="demands").pending["events"]["ranges"] == []
    # Nothing new: nothing is read again (no margin of old events re-derived every pass).
    assert services.rollup_refresh_recent().demands == 0
