"""Monthly partitions on PostgreSQL (wangge/demands/partitioning/): the months ahead, the default
partition, detaching for archive, and one demand per idempotency key across months. The conversion of
a populated database is in test_partition_convert.py."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from wangge.core.testing import run_threads
from wangge.demands.models import Demand, DemandEvent, State
from wangge.demands.partitioning import PARTITIONED, PartitionError
from wangge.demands.partitioning.months import (
    ahead_months,
    detach_before,
    ensure_months,
    existing_months,
    is_partitioned,
    partition_name,
    partitions_ahead_pass,
    status,
)
from wangge.demands.services.intake import demand_submit
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.postgres_only


def where(model: Any, pk: int) -> str:
    """The partition a row is stored in."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def local(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 12, tzinfo=timezone.get_default_timezone())


@pytest.mark.django_db
def test_a_fresh_database_is_partitioned_and_intake_lands_in_this_month(tree: Any) -> None:
    with connection.cursor() as cursor:
        assert all(is_partitioned(cursor, p.table) for p in PARTITIONED)
    d = make_demand(grid=tree.grid)
    month = (timezone.localtime(d.created_at).year, timezone.localtime(d.created_at).month)
    assert where(Demand, d.pk) == partition_name(PARTITIONED[0], month)
    event = DemandEvent.objects.get(demand=d)
    assert where(DemandEvent, event.pk) == partition_name(PARTITIONED[1], month)


@pytest.mark.django_db
def test_the_default_partition_catches_a_row_out_of_range_and_a_new_month_takes_it_over(tree: Any) -> None:
    d = make_demand(grid=tree.grid)
    Demand.objects.filter(pk=d.pk).update(created_at=local(2001, 3, 10))
    assert where(Demand, d.pk) == "demands_demand_default"
    defaults = {s.partition: s.rows_exact for s in status() if s.rows_exact is not None}
    assert defaults == {"demands_demand_default": 1, "demands_demandevent_default": 0}

    assert ensure_months([(2001, 3)]) == ["demands_demand_p2001_03", "demands_demandevent_p2001_03"]
    assert where(Demand, d.pk) == "demands_demand_p2001_03"
    assert {s.partition: s.rows_exact for s in status() if s.rows_exact is not None}["demands_demand_default"] == 0
    assert Demand.objects.get(pk=d.pk).code == d.code


@pytest.mark.django_db
def test_creating_the_months_ahead_is_idempotent() -> None:
    wanted = ahead_months(6)
    assert len(wanted) == 7  # this month and six more
    with connection.cursor() as cursor:
        missing = [(p, m) for p in PARTITIONED for m in wanted if m not in existing_months(cursor, p.table)]
    with override_settings(WANGGE_PARTITION_MONTHS_AHEAD=6):
        assert partitions_ahead_pass() == len(missing)
        assert partitions_ahead_pass() == 0
    with connection.cursor() as cursor:
        for part in PARTITIONED:
            assert set(wanted) <= existing_months(cursor, part.table)
    out = StringIO()
    call_command("partition_history", "--ahead", "6", stdout=out)
    assert "every month exists already" in out.getvalue()


@pytest.mark.django_db
def test_detach_refuses_while_a_demand_of_those_months_is_unfinished_then_detaches(tree: Any) -> None:
    d = make_demand(grid=tree.grid)
    Demand.objects.filter(pk=d.pk).update(created_at=local(2002, 5, 15))
    DemandEvent.objects.filter(demand=d).update(at=local(2002, 5, 15))
    ensure_months([(2002, 4), (2002, 5)])

    with pytest.raises(PartitionError, match="2002-05: 1"):
        detach_before((2002, 6))
    with pytest.raises(CommandError, match=r"未办结.*2002-05: 1.*unfinished"):
        call_command("partition_history", "--detach-before", "2002-06", stdout=StringIO())
    assert Demand.objects.filter(pk=d.pk).exists()

    Demand.objects.filter(pk=d.pk).update(state=State.CLOSED)
    out = StringIO()
    call_command("partition_history", "--detach-before", "2002-06", stdout=out)
    assert "pg_dump -Fc -t demands_demand_p2002_04 -t demands_demand_p2002_05" in out.getvalue()
    assert not Demand.objects.filter(pk=d.pk).exists()
    assert not DemandEvent.objects.filter(demand_id=d.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM demands_demand_p2002_05")  # standalone now, for pg_dump
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM demands_demandevent_p2002_05")
        assert cursor.fetchone()[0] == 1
        assert (2002, 5) not in existing_months(cursor, "demands_demand")


@pytest.mark.django_db
def test_a_repeated_key_finds_the_first_demand_in_an_earlier_month(tree: Any) -> None:
    """The key is unique only with `created_at` on a partitioned table: the database would take a
    second demand with it; intake's claim finds the first across the months."""
    first = make_demand(grid=tree.grid, idempotency_key="key-of-last-month")
    Demand.objects.filter(pk=first.pk).update(created_at=first.created_at - dt.timedelta(days=40))
    again = demand_submit(
        channel="resident_web", title="路灯", description="路灯坏了", reporter_phone="13900001234",
        grid=tree.grid, idempotency_key="key-of-last-month",
    )  # fmt: skip
    assert again.replayed and again.demand.pk == first.pk
    assert Demand.objects.filter(idempotency_key="key-of-last-month").count() == 1


@pytest.mark.django_db(transaction=True)
def test_intakes_racing_with_one_key_give_one_demand(tree: Any) -> None:
    def submit(i: int) -> Any:
        return demand_submit(
            channel="resident_web", title=f"路灯{i}", description="小区门口的路灯坏了", reporter_phone="13900001234",
            grid=tree.grid, idempotency_key="one-key-racing",
        )  # fmt: skip

    results = run_threads(8, submit)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.demand.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert Demand.objects.filter(idempotency_key="one-key-racing").count() == 1
    assert Demand.objects.count() == 1
