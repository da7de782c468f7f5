"""No foreign key may point at a partitioned table at the database level (PostgreSQL cannot have one:
there is no unique key on `id` alone). Checked on the models, so a new relation fails here rather than
in a production `migrate`; on PostgreSQL also in the catalog. And the worker hook is a no-op on SQLite."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from wangge.demands.partitioning import PARTITIONED, partitioned_models
from wangge.demands.partitioning.months import partitions_ahead_pass


def test_every_relation_to_a_partitioned_model_has_no_database_constraint() -> None:
    partitioned = partitioned_models()
    assert partitioned == {"demands.Demand", "demands.DemandEvent"}
    relations, constrained = [], []
    for model in apps.get_models():
        for field in model._meta.get_fields(include_hidden=True):
            if not (field.is_relation and field.concrete and field.related_model is not None):
                continue
            if field.many_to_many or field.related_model._meta.label not in partitioned:
                continue
            relations.append(f"{model._meta.label}.{field.name}")
            if field.db_constraint:  # type: ignore[union-attr]
                constrained.append(f"{model._meta.label}.{field.name}")
    assert len(relations) >= 20, relations  # the walk does find them (demands' own, governance, wechat …)
    assert constrained == [], f"add db_constraint=False (docs/scaling.md, 'Partitions'): {constrained}"


@pytest.mark.django_db
def test_no_foreign_key_points_at_a_partitioned_table_in_the_database() -> None:
    if connection.vendor != "postgresql":
        assert partitions_ahead_pass() == 0  # SQLite: plain tables, nothing to create
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)",
            [[p.table for p in PARTITIONED]],
        )
        assert cursor.fetchall() == []
