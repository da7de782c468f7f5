"""`manage.py partition_history --convert` on a populated, unpartitioned database (PostgreSQL).

The test database is partitioned by migration demands 0016, so the test first puts the two tables
back as an older install has them (the models' own plain tables, by the schema editor), fills them
through the app, converts with the command and checks every row, every index, a page, intake and an
event insert. It leaves the database partitioned again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wangge.accounts.models import Role
from wangge.demands.checks import check_history_partitioned
from wangge.demands.models import Demand, DemandEvent
from wangge.demands.partitioning import PARTITIONED
from wangge.demands.partitioning.convert import convert
from wangge.demands.partitioning.months import is_partitioned, month_of, partition_name
from wangge.demands.testing import make_demand
from wangge.demands.tests.test_partitions import where

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def indexes(table: str) -> dict[str, str]:
    """Index name → definition, with the table's name, ONLY, casts, brackets and spaces taken out so old and
    new compare (PostgreSQL prints a partial index's predicate read back from its own print with its casts
    moved: `(ARRAY['a'::character varying])::text[]` becomes `ARRAY[('a'::character varying)::text]`)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        rows = cursor.fetchall()
    out = {}
    for name, definition in rows:
        d = definition.replace(" ONLY ", " ").replace(f"public.{table} ", "T ")
        out[name] = re.sub(r"::[a-z ]+(\[\])?|[() ]", "", d)
    return out


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


@pytest.fixture
def unpartitioned() -> Iterator[None]:
    """The two tables as plain tables (the models' own DDL), as before migration 0016; partitioned
    again afterwards whatever the test did, so the rest of this worker's tests see a normal database."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE demands_demandevent, demands_demand")
    with connection.schema_editor() as editor:
        editor.create_model(Demand)
        editor.create_model(DemandEvent)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for part in PARTITIONED:
                cursor.execute(f"DROP TABLE IF EXISTS {part.table}_unpartitioned")
        convert(ahead=3)


def test_convert_keeps_every_row_and_index_and_the_app_reads_and_writes(
    tree: Any, personas: Any, unpartitioned: None
) -> None:
    with connection.cursor() as cursor:
        assert not any(is_partitioned(cursor, p.table) for p in PARTITIONED)
    assert [w.id for w in check_history_partitioned(None)] == ["wangge.W020"]

    demands = [make_demand(grid=tree.grid) for _ in range(6)]
    now = timezone.now()
    for i, d in enumerate(demands):  # six months of history, one demand a month
        at = now - dt.timedelta(days=35 * i)
        Demand.objects.filter(pk=d.pk).update(created_at=at)
        DemandEvent.objects.filter(demand=d).update(at=at)
    before = {p.table: (count(p.table), indexes(p.table)) for p in PARTITIONED}
    assert len(before["demands_demand"][1]) > 30  # every partial, pattern and unique index of the model

    out = StringIO()
    call_command("partition_history", "--convert", stdout=out)
    log = out.getvalue()
    assert "demands_demand: 6 rows" in log and "converted" in log and "kept as demands_demand_unpartitioned" in log

    for part in PARTITIONED:
        rows, old = before[part.table]
        with connection.cursor() as cursor:
            assert is_partitioned(cursor, part.table)
        assert count(part.table) == rows == count(f"{part.table}_unpartitioned")
        new = indexes(part.table)
        assert set(new) == set(old)
        for name, definition in old.items():
            if definition.startswith("CREATEUNIQUEINDEX"):  # the partition key joins each unique one and the pk
                assert new[name] == f"{definition},{part.key}", name
            else:
                assert new[name] == definition, name
    assert check_history_partitioned(None) == []
    third = demands[3]
    assert where(Demand, third.pk) == partition_name(PARTITIONED[0], month_of(now - dt.timedelta(days=105)))

    client = Client()
    client.force_login(personas[Role.GRID_LEADER])
    page = client.get(reverse("demands:detail", args=[third.pk]))
    assert page.status_code == 200 and third.code in page.content.decode()

    fresh = make_demand(grid=tree.grid, idempotency_key="after-the-conversion")
    assert fresh.pk > max(d.pk for d in demands)  # the ids go on from the old sequence
    assert where(Demand, fresh.pk) == partition_name(PARTITIONED[0], month_of(fresh.created_at))
    old_at = now - dt.timedelta(days=70)
    event = DemandEvent.objects.create(demand=third, at=old_at, action="comment", actor_kind="system")
    assert where(DemandEvent, event.pk) == partition_name(PARTITIONED[1], month_of(old_at))
    assert make_demand(grid=tree.grid, idempotency_key="after-the-conversion").pk == fresh.pk
    assert Demand.objects.count() == 7
