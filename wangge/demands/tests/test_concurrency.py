"""Races on PostgreSQL with real threads: one winner, the rest a clear Conflict; codes without gaps."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from wangge.accounts.models import Role
from wangge.core.errors import Conflict
from wangge.demands import services
from wangge.demands.models import Demand, DemandEvent, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite serialises writers (run with DATABASE_URL=postgres://…)")


def run_threads(n: int, target: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


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
