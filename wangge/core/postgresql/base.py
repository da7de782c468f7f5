"""Django's PostgreSQL backend, with two changes (ENGINE "wangge.core.postgresql").

Django shortens `GROUP BY` to the primary key of a model whose other columns it selects, since they
depend on it. On a partitioned table (settings.WANGGE_PARTITIONED: demands and their events) the
primary key is (id, partition key), so `id` alone no longer determines the other columns and
PostgreSQL refuses the shortened query ("must appear in the GROUP BY clause"). For those models the
backend lets Django group by every selected column, as it does on other databases.

With server-side binding (settings.POSTGRESQL_OPTIONS, on by default) a statement carries at most
65,535 parameters (the protocol counts them in 16 bits), where Django 5.2 sets no limit on
PostgreSQL: a `bulk_update` of a few thousand rows, or the deletion of as many, would fail. The backend
says so, and batches the bulk operations under it (what Django does from 6.0, #36822).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base, features, operations

MAX_BOUND_PARAMETERS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model: Any) -> bool:
        partitioned = {table for _label, table, _key in settings.WANGGE_PARTITIONED}
        return bool(super().allows_group_by_selected_pks_on_model(model)) and model._meta.db_table not in partitioned

    @property
    def max_query_params(self) -> int | None:  # type: ignore[override]
        return MAX_BOUND_PARAMETERS if self.uses_server_side_binding else None  # type: ignore[attr-defined]


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        """Objects a bulk statement may carry. Half of limit / fields: `bulk_update` counts a field once per
        object (with two "pk" for its `IN`) but sends two values, the CASE's WHEN and THEN, so the exact count
        would overflow with two fields or more. (`bulk_create` sends one array a column, UNNEST, since 5.2.)"""
        limit = self.connection.features.max_query_params
        if limit is None:
            return int(super().bulk_batch_size(fields, objs))
        return max(1, limit // (2 * max(1, len(fields))))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
