"""The database router of a deployment with a read replica (DATABASE_REPLICA_URL; installed only then).

Writes always go to the primary. Reads go to the replica only inside `wangge.core.replica.use_replica()`
and outside any transaction on the primary, and never for the apps in `PRIMARY_ONLY_APPS` (sessions,
accounts, the cache); everywhere else they go to the primary, also for objects first read from the
replica. The replica is never migrated: it replays the primary.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS

from wangge.core.replica import PRIMARY_ONLY_APPS, REPLICA_ALIAS, read_alias


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        alias = read_alias()
        if alias == REPLICA_ALIAS and model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return alias

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        # Explicit: without an answer Django would write an object back where it was read from.
        return DEFAULT_DB_ALIAS if read_alias() is not None else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read from either may point at one from the other.
        return True if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_ALIAS} else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA_ALIAS else None
