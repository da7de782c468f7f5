"""Turn a plain table into a table partitioned by month, in one transaction (PostgreSQL).

The steps, for each table of `PARTITIONED`: lock it against writes (reads go on); create the
partitioned twin `<table>_partitioned` (LIKE the table: columns, defaults, NOT NULL and CHECK
constraints, the identity); create the months from the data's first month to now + ahead and the
DEFAULT partition; copy the rows month by month; recreate every index of the old table on the new
parent from `pg_get_indexdef` (the partial ones too), with the partition key added to the primary key
and to each unique one (PostgreSQL requires it); recreate the foreign keys the table has to others;
move the identity (or serial sequence) on; swap the names. The old table stays as
`<table>_unpartitioned`, without its foreign keys so it never blocks a delete elsewhere, unless
`drop_old`. The migration runs the same steps on the empty tables of a fresh install.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from wangge.core import clock
from wangge.demands.partitioning import PARTITIONED, Partitioned, PartitionError
from wangge.demands.partitioning.months import (
    add_months,
    bound,
    default_name,
    is_partitioned,
    month_of,
    month_start,
    months_between,
    partition_name,
)

Log = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


def _with_key(definition: str, key: str) -> str:
    """Add the partition key to the last column list of an index or UNIQUE definition:
    'UNIQUE (code)' → 'UNIQUE (code, created_at)'; the definition unchanged when it has it already."""
    start = definition.index("(", definition.index(" USING ") if " USING " in definition else 0)
    depth, end = 0, start
    for i in range(start, len(definition)):
        depth += {"(": 1, ")": -1}.get(definition[i], 0)
        if depth == 0:
            end = i
            break
    columns = [c.strip() for c in definition[start + 1 : end].split(",")]
    if key in columns:
        return definition
    return f"{definition[:end]}, {key}{definition[end:]}"


def _old_name(cursor: CursorWrapper, name: str) -> str:
    """A free name for the old table's index `name` (index names are per schema)."""
    n = 0
    while True:
        candidate = f"{name[:54]}_unp{n:02d}"
        cursor.execute("SELECT to_regclass(%s) IS NULL", [connection.ops.quote_name(candidate)])
        if cursor.fetchone()[0]:
            return candidate
        n += 1


def convert_table(cursor: CursorWrapper, part: Partitioned, *, ahead: int, drop_old: bool, log: Log) -> int:
    """Convert one table (see the module); the rows copied. Call inside a transaction."""
    qn = connection.ops.quote_name
    table, key = part.table, part.key
    new, old = f"{table}_partitioned", f"{table}_unpartitioned"
    cursor.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(
        "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass",
        [table],
    )
    pointing = [f"{rel}.{name}" for name, rel in cursor.fetchall()]
    if pointing:
        names = ", ".join(sorted(pointing))
        raise PartitionError(
            f"仍有外键指向 {table}：{names}；请先运行 manage.py migrate / foreign keys still point at {table}: "
            f"{names}; run manage.py migrate first"
        )
    cursor.execute(f"SELECT min({qn(key)}), count(*) FROM {qn(table)}")
    first_at, total = cursor.fetchone()
    now = month_of(clock.now())
    first = min(month_of(first_at), now) if first_at else now
    months = months_between(first, add_months(now, ahead))

    cursor.execute(
        f"CREATE TABLE {qn(new)} (LIKE {qn(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
        f"INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({qn(key)})"
    )
    for month in months:
        cursor.execute(
            bound(
                f"CREATE TABLE {qn(partition_name(part, month))} PARTITION OF {qn(new)} FOR VALUES FROM (%s) TO (%s)",
                [month_start(month), month_start(add_months(month, 1))],
            )
        )
    cursor.execute(f"CREATE TABLE {qn(default_name(part))} PARTITION OF {qn(new)} DEFAULT")
    span = f"{months[0][0]}-{months[0][1]:02d} … {months[-1][0]}-{months[-1][1]:02d}"
    log(f"{table}: {total} rows, {len(months)} months {span}")

    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    columns = cursor.fetchone()[0]
    copied = 0
    for month in months:
        if not total:
            break
        started = time.monotonic()
        cursor.execute(
            f"INSERT INTO {qn(new)} ({columns}) SELECT {columns} FROM {qn(table)} "
            f"WHERE {qn(key)} >= %s AND {qn(key)} < %s",
            [month_start(month), month_start(add_months(month, 1))],
        )
        copied += cursor.rowcount
        if cursor.rowcount:
            log(f"  {partition_name(part, month)}: {cursor.rowcount} rows in {time.monotonic() - started:.2f} s")
    cursor.execute(
        f"INSERT INTO {qn(new)} ({columns}) SELECT {columns} FROM {qn(table)} "
        f"WHERE {qn(key)} >= %s OR {qn(key)} < %s OR {qn(key)} IS NULL",
        [month_start(add_months(months[-1], 1)), month_start(months[0])],
    )
    copied += cursor.rowcount
    if copied != total:
        raise PartitionError(f"{table}: 复制了 {copied} 行，应为 {total} 行 / copied {copied} rows of {total}")

    started = time.monotonic()
    _move_indexes(cursor, part, new)
    _move_foreign_keys(cursor, table, new)
    _move_identity(cursor, table, new, old)
    cursor.execute(f"ALTER TABLE {qn(table)} RENAME TO {qn(old)}")
    cursor.execute(f"ALTER TABLE {qn(new)} RENAME TO {qn(table)}")
    log(f"  indexes, keys and names in {time.monotonic() - started:.2f} s")
    if drop_old:
        cursor.execute(f"DROP TABLE {qn(old)}")
        log(f"  dropped {old}")
    else:
        log(f"  the old table is kept as {old} (drop it once the new one is checked)")
    cursor.execute(f"ANALYZE {qn(table)}")
    return copied


def _move_indexes(cursor: CursorWrapper, part: Partitioned, new: str) -> None:
    """Every index of the old table again on the new parent, under its own name; the old one renamed."""
    qn = connection.ops.quote_name
    table = part.table
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisunique, con.contype, "
        "pg_get_constraintdef(con.oid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
        "WHERE i.indrelid = %s::regclass ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    for name, definition, _primary, unique, contype, condef in indexes:
        if contype in ("p", "u", "x"):
            cursor.execute(f"ALTER TABLE {qn(table)} RENAME CONSTRAINT {qn(name)} TO {qn(_old_name(cursor, name))}")
        else:
            cursor.execute(f"ALTER INDEX {qn(name)} RENAME TO {qn(_old_name(cursor, name))}")
        if contype in ("p", "u"):
            cursor.execute(f"ALTER TABLE {qn(new)} ADD CONSTRAINT {qn(name)} {_with_key(condef, part.key)}")
            continue
        on_new = re.sub(r" ON (ONLY )?\S+ USING ", f" ON {qn(new)} USING ", definition, count=1)
        if unique:
            on_new = _with_key(on_new, part.key)
        cursor.execute(on_new)


def _move_foreign_keys(cursor: CursorWrapper, table: str, new: str) -> None:
    """The foreign keys the table has to others, on the new parent; dropped from the old table."""
    qn = connection.ops.quote_name
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass",
        [table],
    )
    for name, definition in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        cursor.execute(f"ALTER TABLE {qn(new)} ADD CONSTRAINT {qn(name)} {definition}")


def _move_identity(cursor: CursorWrapper, table: str, new: str, old: str) -> None:
    """Ids go on from where the old table's sequence was: an identity column gets its new sequence set
    past the old one's and the names swapped; a serial column's sequence is handed to the new table."""
    qn = connection.ops.quote_name
    cursor.execute(
        "SELECT attname, attidentity FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped AND (attidentity <> '' OR pg_get_serial_sequence(%s, attname) IS NOT NULL)",
        [table, qn(table)],
    )
    for column, identity in cursor.fetchall():
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(table), column])
        old_seq = cursor.fetchone()[0]
        if not identity:
            cursor.execute(f"ALTER SEQUENCE {old_seq} OWNED BY {qn(new)}.{qn(column)}")
            continue
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(new), column])
        new_seq = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT setval(%s, greatest((SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            f"FROM {old_seq}), (SELECT coalesce(max({qn(column)}), 0) FROM {qn(new)}), 1))",
            [new_seq],
        )
        cursor.execute(f"ALTER SEQUENCE {old_seq} RENAME TO {qn(f'{old}_{column}_seq')}")
        cursor.execute(f"ALTER SEQUENCE {new_seq} RENAME TO {qn(f'{table}_{column}_seq')}")


def convert(*, ahead: int, drop_old: bool = False, only_empty: bool = False, log: Log = _quiet) -> dict[str, int]:
    """Partition every table of `PARTITIONED` not partitioned yet; rows copied by table.

    `only_empty` (the migration): convert only when every such table is empty, else change nothing.
    """
    if connection.vendor != "postgresql":
        return {}
    qn = connection.ops.quote_name
    done: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        todo = [p for p in PARTITIONED if not is_partitioned(cursor, p.table)]
        if only_empty:
            for part in todo:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(part.table)})")
                if cursor.fetchone()[0]:
                    return {}
        for part in todo:
            started = time.monotonic()
            done[part.table] = convert_table(cursor, part, ahead=ahead, drop_old=drop_old, log=log)
            log(f"{part.table}: done in {time.monotonic() - started:.2f} s")
    return done


def unpartitioned_tables() -> list[str]:
    """The partitioned tables that exist as plain tables on this PostgreSQL database (the system check)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' "
            "AND oid IN (SELECT to_regclass(t) FROM unnest(%s::text[]) AS t)",
            [[p.table for p in PARTITIONED]],
        )
        return sorted(row[0] for row in cursor.fetchall())
