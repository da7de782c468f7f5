"""PostgreSQL: partition demands (by `created_at`) and their events (by `at`) by month, when empty.

A fresh install and every PostgreSQL test database are partitioned from here on. A database whose
tables already hold rows is left as it is (nothing is rewritten inside `migrate`); the system check
wangge.W020 then names the command that converts it: `manage.py partition_history --convert`.
SQLite keeps plain tables. See wangge/demands/partitioning/ and docs/scaling.md ("Partitions").

Also creates `wangge_idempotency_claim`, the function intake calls to keep one demand per
idempotency key once the key is unique only together with the month (wangge/demands/codes.py).
"""

from typing import Any

from django.conf import settings
from django.db import migrations

CLAIM_SQL = """
CREATE OR REPLACE FUNCTION wangge_idempotency_claim(claim_key text, own_id bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Held to commit: a second intake with this key waits here, then its next statement's fresh
    -- snapshot (plpgsql, VOLATILE, READ COMMITTED) sees the first one's committed demand.
    PERFORM pg_advisory_xact_lock(hashtextextended('demands.idempotency:' || claim_key, 0));
    RETURN (SELECT id FROM demands_demand WHERE idempotency_key = claim_key AND id <> own_id ORDER BY id LIMIT 1);
END
$$;
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    from wangge.demands.partitioning.convert import convert

    schema_editor.execute(CLAIM_SQL)
    convert(ahead=settings.WANGGE_PARTITION_MONTHS_AHEAD, drop_old=True, only_empty=True)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS wangge_idempotency_claim(text, bigint)")


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0015_fks_without_db_constraints_for_partitions"),
        # Every foreign key pointing at the two tables is dropped first (a partitioned table has no
        # unique key on `id` alone for one to reference).
        ("dashboards", "0006_fks_without_db_constraints_for_partitions"),
        ("facilities", "0004_fks_without_db_constraints_for_partitions"),
        ("governance", "0002_fks_without_db_constraints_for_partitions"),
        ("open311", "0002_fks_without_db_constraints_for_partitions"),
        ("triage", "0005_fks_without_db_constraints_for_partitions"),
        ("visits", "0002_fks_without_db_constraints_for_partitions"),
        ("wechat", "0003_fks_without_db_constraints_for_partitions"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
