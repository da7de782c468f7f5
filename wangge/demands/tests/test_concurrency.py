"""Races on PostgreSQL with real threads: one winner, the rest a clear Conflict; codes without gaps."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.core.errors import Conflict
from wangge.core.testing import run_threads
from wangge.demands import services
from wangge.demands.models import Demand, DemandEvent, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_fifty_threads_accepting_one_demand_give_one_acceptance(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    version = d.version
    results = run_threads(50, lambda i: services.demand_accept(demand=Demand(pk=d.pk), actor=leader, version=version))
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Demand": 1, "Conflict": 49}, kinds
    assert all(isinstance(r, Conflict) and r.status == 409 for r in results if not isinstance(r, Demand))
    d.refresh_from_db()
    assert d.state == State.IN_PROGRESS and d.version == version + 1
    assert DemandEvent.objects.filter(demand=d, action="accept").count() == 1
    assert OutboxMessage.objects.filter(kind="demand.resident.accepted").count() == 1


def test_two_different_moves_at_once_give_one_winner_and_one_conflict(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = make_demand(grid=tree.grid)
    results = run_threads(
        2,
        lambda i: (
            services.demand_resolve(demand=Demand(pk=d.pk), actor=leader, result="已修好", version=1)
            if i == 0
            else services.demand_escalate(demand=Demand(pk=d.pk), actor=leader, reason="上报", version=1)
        ),
    )
    assert sum(isinstance(r, Demand) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert DemandEvent.objects.filter(demand=d).exclude(action="submit").count() == 1


def test_concurrent_intake_numbers_without_gaps_and_one_per_idempotency_key(tree: Any) -> None:
    results = run_threads(12, lambda i: make_demand(grid=tree.grid, idempotency_key=f"same-{i % 3}"))
    assert all(isinstance(r, Demand) for r in results), results
    assert Demand.objects.count() == 3
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code in Demand.objects.values_list("code", flat=True))
    assert numbers == [1, 2, 3]


def test_twenty_intakes_at_once_number_one_to_twenty_with_no_placeholder_left(tree: Any) -> None:
    results = run_threads(20, lambda i: make_demand(grid=tree.grid))
    assert all(isinstance(r, Demand) for r in results), results
    codes = list(Demand.objects.values_list("code", flat=True))
    assert sorted(int(code.rsplit("-", 1)[1]) for code in codes) == list(range(1, 21))
    assert sorted(r.code for r in results) == sorted(codes)  # each caller got the code that was stored
    assert not any(code.startswith("~") for code in codes)
    # Each resident's message names the code of their own demand.
    bodies = OutboxMessage.objects.filter(kind="demand.resident.submitted").values_list("body", flat=True)
    assert sorted(next(c for c in codes if c in body) for body in bodies) == sorted(codes)


@pytest.mark.parametrize("pause_in", ["_holder_recipients", "_tell_resident"])
def test_the_day_counter_is_locked_only_at_the_end_of_intake(tree: Any, monkeypatch: Any, pause_in: str) -> None:
    """An intake paused after its inserts, or while it writes its messages, holds no lock another intake
    needs: the counter comes last."""
    from wangge.demands.services import intake

    make_demand(grid=tree.grid)  # the day's counter row exists
    paused, release = threading.Event(), threading.Event()
    real = getattr(intake, pause_in)

    def slow(demand: Demand, *args: Any, **kwargs: Any) -> Any:
        if demand.title == "慢":
            paused.set()
            assert release.wait(30), "the second intake never finished: it waited for the first one's lock"
        return real(demand, *args, **kwargs)

    monkeypatch.setattr(intake, pause_in, slow)

    def work(i: int) -> Demand:
        if i == 0:
            return make_demand(grid=tree.grid, title="慢")
        assert paused.wait(30)
        try:
            return make_demand(grid=tree.grid, title="快")
        finally:
            release.set()

    results = run_threads(2, work)
    assert all(isinstance(r, Demand) for r in results), results
    by_title = {d.title: int(d.code.rsplit("-", 1)[1]) for d in Demand.objects.all()}
    # The second one finished (and was numbered) while the first was paused after its inserts.
    assert by_title["快"] == 2 and by_title["慢"] == 3
