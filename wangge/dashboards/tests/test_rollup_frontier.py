"""The worker's refresh reads each event once, and an event whose id it passed before the event committed later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from wangge.dashboards import services
from wangge.dashboards.frontier import MAX_RANGES, Frontier, advance, frontier_of
from wangge.dashboards.models import DemandFacts, RollupState
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


@pytest.mark.django_db
def test_a_page_computes_only_the_demands_whose_events_the_refresh_has_not_read(
    tree: Any, settings: Any, monkeypatch: Any
) -> None:
    """Today's part of a page uses the stored facts of every demand whose events the last refresh read, and
    computes the others: those named by events above its top, and by an event in flight below it (a
    pending range), not a margin of the last 1,000 events."""
    from wangge.dashboards import selectors
    from wangge.dashboards.selectors import tallies

    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0
    make_demand(grid=tree.grid)
    services.rollup_refresh_recent()
    services.rollup_refresh_recent()
    quiet, late, touched = (make_demand(grid=tree.grid) for _ in range(3))
    event = late.events.get()
    DemandEvent.objects.filter(pk=event.pk).delete()  # in flight while the refresh reads
    services.rollup_refresh_recent()
    event.save(force_insert=True)  # committed below the refresh's top: pending
    DemandEvent.objects.create(demand=touched, action="comment", to_state=touched.state, at=timezone.now())  # above
    computed: list[int] = []
    real = tallies.demand_facts

    def counting(row: Any, now: Any) -> Any:
        computed.append(row.demand_id)
        return real(row, now)

    monkeypatch.setattr(tallies, "demand_facts", counting)
    today = selectors.period_from("today")
    tally = selectors.figures(subject=selectors.Subject(area=tree.city), period=today)
    assert sorted(computed) == sorted([late.pk, touched.pk])
    assert tally.counts["received"] == 4 and quiet.pk not in computed
