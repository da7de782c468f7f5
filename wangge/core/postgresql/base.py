"""Django's PostgreSQL backend, with one change for partitioned tables (ENGINE "wangge.core.postgresql").

Django shortens `GROUP BY` to the primary key of a model whose other columns it selects, since they
depend on it. On a partitioned table (settings.WANGGE_PARTITIONED: demands and their events) the
primary key is (id, partition key), so `id` alone no longer determines the other columns and
PostgreSQL refuses the shortened query ("must appear in the GROUP BY clause"). For those models the
backend lets Django group by every selected column, as it does on other databases.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model: Any) -> bool:
        partitioned = {table for _label, table, _key in settings.WANGGE_PARTITIONED}
        return bool(super().allows_group_by_selected_pks_on_model(model)) and model._meta.db_table not in partitioned


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
