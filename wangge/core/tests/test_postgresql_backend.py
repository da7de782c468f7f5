"""The project's PostgreSQL backend under server-side binding (settings.POSTGRESQL_OPTIONS, the default)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from wangge.core.models import RateCounter
from wangge.core.postgresql.base import MAX_BOUND_PARAMETERS

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


@pytest.mark.parametrize("fields", [1, 2, 3, 10, 40])
def test_a_bulk_update_batch_stays_under_the_parameter_limit(fields: int) -> None:
    assert connection.features.uses_server_side_binding  # type: ignore[attr-defined]
    objs = [object()] * 100_000
    # bulk_update asks for ["pk", "pk", *fields] and sends, per object, a WHEN and a THEN a field and its key in an IN.
    batch = connection.ops.bulk_batch_size(["pk", "pk", *range(fields)], objs)
    assert batch * (2 * fields + 1) <= MAX_BOUND_PARAMETERS
    assert batch >= 500  # still batches of hundreds at least


def test_a_bulk_update_in_batches_updates_every_row() -> None:
    ends = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    rows = [RateCounter(key=f"bulk-{i:05d}", bucket=i, hits=1, expires_at=ends) for i in range(3_000)]
    RateCounter.objects.bulk_create(rows)
    for row in rows:
        row.bucket, row.hits = row.bucket + 1, 2
    RateCounter.objects.bulk_update(rows, ["bucket", "hits"], batch_size=None)
    assert RateCounter.objects.filter(key__startswith="bulk-", hits=2).count() == 3_000
