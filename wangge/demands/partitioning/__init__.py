"""Monthly partitions of the demands' history on PostgreSQL (docs/scaling.md, "Partitions").

`demands_demand` is range-partitioned by month on `created_at`, `demands_demandevent` on `at`; SQLite
keeps plain tables and every function here is a no-op there. The list of partitioned models and their
keys is `settings.WANGGE_PARTITIONED`, read here as `PARTITIONED` by the migration, the command
`partition_history`, the worker hook, the system check and the test that no foreign key points at
them at the database level, and by the database backend (wangge/core/postgresql/base.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Partitioned:
    """One partitioned table: its model, its table and the column its months are cut on."""

    model: str  # app_label.ModelName
    table: str
    key: str


PARTITIONED: tuple[Partitioned, ...] = tuple(Partitioned(*row) for row in settings.WANGGE_PARTITIONED)


class PartitionError(Exception):
    """A refusal of the partition command, in Chinese and English."""


def partitioned_models() -> frozenset[str]:
    """The labels of the partitioned models (`app_label.ModelName`)."""
    return frozenset(p.model for p in PARTITIONED)
