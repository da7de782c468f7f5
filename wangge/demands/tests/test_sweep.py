"""The time-limit sweep: past a limit exactly the overdue demands move, once, however many workers run."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.models import Demand, DemandEvent, State
from wangge.demands.sweep import sweep_once
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

# Wednesday 15 April 2026, 10:00 in Shanghai.
T0 = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)


def at(hours: float) -> Any:
    return time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False)


@pytest.mark.django_db
def test_run_worker_once_escalates_exactly_the_overdue_once(tree: Any, personas: Any) -> None:
    with at(0):
        late = [make_demand(grid=tree.grid) for _ in range(3)]
        taken = make_demand(grid=tree.grid)
        services.demand_accept(demand=taken, actor=personas[Role.GRID_LEADER])
    with at(5):
        fresh = make_demand(grid=tree.grid)  # its limit is still ahead at +8h
    # 8 working hours from Wednesday 10:00 end on Thursday 09:00 (15:00 for the one filed at 15:00).
    with at(24):  # Thursday 10:00
        call_command("run_worker", "--once", verbosity=0)
        call_command("run_worker", "--once", verbosity=0)  # a second worker after the first: nothing left
    for d in late:
        d.refresh_from_db()
        assert d.state == State.ESCALATED and d.holder_area == tree.branch and d.escalations == 1
        assert d.events.filter(action="auto_escalate").count() == 1
    taken.refresh_from_db()
    fresh.refresh_from_db()
    assert taken.state == State.IN_PROGRESS and fresh.state == State.SUBMITTED
    assert fresh.accept_due_at > T0 + dt.timedelta(hours=24)
    # Both levels are told: the branch (arrival) and the grid that let it pass.
    branch_user, grid_user = personas[Role.BRANCH], personas[Role.GRID_LEADER]
    for d in late:
        assert OutboxMessage.objects.filter(recipient=f"user:{branch_user.pk}", payload__demand_id=d.pk).exists()
        assert OutboxMessage.objects.filter(
            recipient=f"user:{grid_user.pk}", kind="demand.auto_escalated", payload__demand_id=d.pk
        ).exists()


@pytest.mark.django_db
def test_the_climb_continues_one_level_per_limit(tree: Any, personas: Any) -> None:
    with at(0):
        d = make_demand(grid=tree.grid)
    with at(24):
        sweep_once()
    with at(48):
        sweep_once()
    d.refresh_from_db()
    assert d.holder_area == tree.village and d.escalations == 2 and d.highest_level == "village"


@pytest.mark.django_db
def test_yellow_then_red_once_each_to_holder_and_level_above(tree: Any, personas: Any) -> None:
    with at(0):
        d = make_demand(grid=tree.grid)
        d = services.demand_accept(demand=d, actor=personas[Role.GRID_LEADER])
    window = d.resolve_due_at - T0
    with time_machine.travel(T0 + window * 0.85, tick=False):
        first = sweep_once()
        again = sweep_once()
    assert (first.yellow, first.red, again.yellow) == (1, 0, 0)
    d.refresh_from_db()
    assert d.warning == "yellow" and d.version == 2  # a flag does not make the holder's form stale
    with time_machine.travel(d.resolve_due_at + dt.timedelta(minutes=1), tick=False):
        red = sweep_once()
        sweep_once()
    assert red.red == 1
    d.refresh_from_db()
    assert d.warning == "red"
    assert DemandEvent.objects.filter(demand=d, action="warn").count() == 2
    holder, above = personas[Role.GRID_LEADER], personas[Role.BRANCH]
    for level in ("yellow", "red"):
        recipients = set(
            OutboxMessage.objects.filter(kind=f"demand.warn_{level}", payload__demand_id=d.pk).values_list(
                "recipient", flat=True
            )
        )
        assert recipients == {f"user:{holder.pk}", f"user:{above.pk}"}


@pytest.mark.django_db
def test_resolved_demands_close_after_the_silence(tree: Any, personas: Any, settings: Any) -> None:
    settings.DEMAND_AUTO_CLOSE_DAYS = 3
    with at(0):
        d = make_demand(grid=tree.grid)
        d = services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="已处理")
    with at(24 * 2):
        assert sweep_once().closed == 0
    with at(24 * 3 + 1):
        assert sweep_once().closed == 1
    d.refresh_from_db()
    assert d.state == State.CLOSED and d.events.last().actor_kind == "system"


@pytest.mark.django_db(transaction=True)
def test_two_workers_together_never_double_an_escalation(tree: Any, personas: Any) -> None:
    with at(0):
        late = [make_demand(grid=tree.grid) for _ in range(12)]
    with at(24):
        if connection.vendor == "postgresql":
            reports: list[Any] = []
            barrier = threading.Barrier(2)

            def work() -> None:
                barrier.wait()
                try:
                    reports.append(sweep_once(batch=4))
                finally:
                    connection.close()

            threads = [threading.Thread(target=work) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(r.escalated for r in reports) == len(late)
        else:
            # SQLite has one writer at a time: two workers in turn (the second finds nothing to claim).
            assert sweep_once(batch=4).escalated == len(late)
            assert sweep_once(batch=4).escalated == 0
    assert DemandEvent.objects.filter(action="auto_escalate").count() == len(late)
    assert set(Demand.objects.values_list("escalations", flat=True)) == {1}
