"""`__any`: one array parameter on PostgreSQL, IN elsewhere; the same rows as `__in`."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.demands.models import Demand
from wangge.demands.testing import make_demand


def test_any_finds_what_in_finds_with_one_parameter_on_postgresql(db: Any, tree: Any) -> None:
    made = [make_demand(grid=tree.grid) for _ in range(4)]
    wanted = [made[0].pk, made[2].pk, made[3].pk, 10**12]
    with CaptureQueriesContext(connection) as queries:
        found = sorted(Demand.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == sorted(Demand.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == sorted(wanted[:3])
    sql = queries.captured_queries[0]["sql"]
    assert ("= ANY(" in sql) if connection.vendor == "postgresql" else (" IN (" in sql)
    assert list(Demand.objects.filter(pk__any=[])) == []
    assert Demand.objects.exclude(pk__any=[made[1].pk]).count() == 3
    assert Demand.objects.filter(code__any=[made[1].code]).get().pk == made[1].pk  # other fields too


def test_any_on_a_relation(db: Any, tree: Any) -> None:
    from wangge.demands.models import DemandEvent

    first, second = make_demand(grid=tree.grid), make_demand(grid=tree.grid)
    got = set(DemandEvent.objects.filter(demand_id__any=[first.pk]).values_list("demand_id", flat=True))
    assert got == {first.pk}
    events = DemandEvent.objects.filter(demand__any=[second.pk])
    assert events.count() == DemandEvent.objects.filter(demand=second).count() > 0
