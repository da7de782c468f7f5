"""The months of a partitioned table: names, bounds, creating them ahead, the status and detaching old ones.

A month is local (settings.TIME_ZONE): `demands_demand_p2026_12` holds the demands created from
1 December 2026 00:00 to 1 January 2027 00:00, China time. Each table has a DEFAULT partition too, a
safety net so an insert never fails; the worker keeps it empty by creating the months ahead
(`partitions_ahead_pass`), and a month created when the default already holds rows of it takes those
rows over (`_create_month`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from wangge.core import clock
from wangge.demands.partitioning import PARTITIONED, Partitioned, PartitionError

Month = tuple[int, int]  # (year, month)
Log = Callable[[str], None]

_MONTH_NAME = re.compile(r"_p(\d{4})_(\d{2})$")


def month_of(value: dt.datetime) -> Month:
    local = timezone.localtime(value)
    return (local.year, local.month)


def parse_month(text: str) -> Month:
    """'2026-03' → (2026, 3); a clear refusal otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", (text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PartitionError(f"月份格式应为 YYYY-MM：{text!r} / a month is written YYYY-MM: {text!r}")
    return (int(match.group(1)), int(match.group(2)))


def add_months(month: Month, n: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + n
    return (index // 12, index % 12 + 1)


def months_between(first: Month, last: Month) -> list[Month]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def month_start(month: Month) -> dt.datetime:
    """Local midnight of the month's first day, as an aware datetime."""
    return dt.datetime(month[0], month[1], 1, tzinfo=timezone.get_default_timezone())


def partition_name(part: Partitioned, month: Month) -> str:
    return f"{part.table}_p{month[0]:04d}_{month[1]:02d}"


def default_name(part: Partitioned) -> str:
    return f"{part.table}_default"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def bound(sql: str, params: list[Any]) -> str:
    """`sql` with its parameters written in as literals, for DDL: a statement such as `CREATE TABLE …
    FOR VALUES FROM (…)` takes no bound parameters, and the connection binds on the server
    (settings.POSTGRESQL_OPTIONS)."""
    return str(connection.ops.compose_sql(sql, params))  # type: ignore[attr-defined]


def is_partitioned(cursor: CursorWrapper, table: str) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return bool(row and row[0] == "p")


def existing_months(cursor: CursorWrapper, table: str) -> set[Month]:
    """The months that have their partition (read from the catalog by name)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [table],
    )
    months = set()
    for (name,) in cursor.fetchall():
        match = _MONTH_NAME.search(name)
        if match:
            months.add((int(match.group(1)), int(match.group(2))))
    return months


def create_month(cursor: CursorWrapper, part: Partitioned, month: Month, *, parent: str | None = None) -> None:
    """Create one month's partition of `parent` (the table by default).

    When the DEFAULT partition already holds rows of that month (written while the month had no
    partition), they move into the new one in the same transaction: PostgreSQL refuses to add a
    partition whose rows sit in the default.
    """
    qn = connection.ops.quote_name
    parent = parent or part.table
    name, default = partition_name(part, month), default_name(part)
    low, high = month_start(month), month_start(add_months(month, 1))
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
    has_default = cursor.fetchone()[0]
    stray = False
    if has_default:
        key = qn(part.key)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(default)} WHERE {key} >= %s AND {key} < %s)", [low, high])
        stray = cursor.fetchone()[0]
    with transaction.atomic():
        if not stray:
            cursor.execute(
                bound(f"CREATE TABLE {qn(name)} PARTITION OF {qn(parent)} FOR VALUES FROM (%s) TO (%s)", [low, high])
            )
            return
        key = qn(part.key)
        cursor.execute(f"CREATE TABLE {qn(name)} (LIKE {qn(parent)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {qn(default)} WHERE {key} >= %s AND {key} < %s RETURNING *) "
            f"INSERT INTO {qn(name)} SELECT * FROM moved",
            [low, high],
        )
        cursor.execute(
            bound(f"ALTER TABLE {qn(parent)} ATTACH PARTITION {qn(name)} FOR VALUES FROM (%s) TO (%s)", [low, high])
        )


def ensure_months(months: Iterable[Month], *, log: Log | None = None) -> list[str]:
    """Create the missing months of every partitioned table (idempotent); the names created."""
    if not is_postgresql():
        return []
    wanted = sorted(set(months))
    created: list[str] = []
    with connection.cursor() as cursor:
        for part in PARTITIONED:
            if not is_partitioned(cursor, part.table):
                continue
            have = existing_months(cursor, part.table)
            for month in wanted:
                if month in have:
                    continue
                create_month(cursor, part, month)
                created.append(partition_name(part, month))
                if log:
                    log(f"created {partition_name(part, month)}")
    return created


def ahead_months(ahead: int, *, since: Month | None = None) -> list[Month]:
    """This month and the next `ahead`, from `since` when given (a generator's history)."""
    now = month_of(clock.now())
    return months_between(min(since, now) if since else now, add_months(now, max(0, ahead)))


def partitions_ahead_pass() -> int:
    """Worker hook: the current month and the next WANGGE_PARTITION_MONTHS_AHEAD exist (a catalog read
    when they do). No-op on SQLite and on an unpartitioned database."""
    return len(ensure_months(ahead_months(settings.WANGGE_PARTITION_MONTHS_AHEAD)))


@dataclass(frozen=True)
class PartitionStatus:
    table: str
    partition: str
    bounds: str
    rows_estimate: int
    bytes: int
    rows_exact: int | None  # counted for the default partition only


def status() -> list[PartitionStatus]:
    """Every partition of every partitioned table, by name, with its estimated rows and size; the
    default partitions' rows are counted (they should be 0)."""
    if not is_postgresql():
        return []
    qn = connection.ops.quote_name
    rows: list[PartitionStatus] = []
    with connection.cursor() as cursor:
        for part in PARTITIONED:
            if not is_partitioned(cursor, part.table):
                continue
            cursor.execute(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint, "
                "pg_total_relation_size(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
                [part.table],
            )
            for name, bounds, estimate, size in cursor.fetchall():
                exact = None
                if name == default_name(part):
                    cursor.execute(f"SELECT count(*) FROM {qn(name)}")
                    exact = int(cursor.fetchone()[0])
                rows.append(PartitionStatus(part.table, name, bounds, int(estimate), int(size), exact))
    return rows


def detach_before(before: Month, *, log: Log | None = None) -> list[str]:
    """DETACH every month before `before` from both tables, for archive; the detached tables' names.

    Refuses (naming each month and its count) while any demand of those months is unfinished. The
    events are cut on their own time, which is never before their demand's creation, so an event
    month detached with its demands' month never belongs to a demand left in the live table.
    """
    from wangge.demands.models import UNFINISHED_STATES

    if not is_postgresql():
        raise PartitionError("分区只在 PostgreSQL 上使用 / partitions are used on PostgreSQL only")
    qn = connection.ops.quote_name
    demand_part = PARTITIONED[0]
    detached: list[str] = []
    with transaction.atomic(), connection.cursor() as cursor:
        plan: list[tuple[Partitioned, str]] = []
        for part in PARTITIONED:
            if not is_partitioned(cursor, part.table):
                raise PartitionError(
                    f"{part.table} 尚未分区，请先运行 manage.py partition_history --convert / "
                    f"{part.table} is not partitioned yet: run manage.py partition_history --convert first"
                )
            plan += [(part, partition_name(part, m)) for m in sorted(existing_months(cursor, part.table)) if m < before]
        unfinished = []
        for part, name in plan:
            if part is not demand_part:
                continue
            cursor.execute(
                f"SELECT count(*) FROM {qn(name)} WHERE state = ANY(%s)", [[str(s) for s in UNFINISHED_STATES]]
            )
            count = int(cursor.fetchone()[0])
            if count:
                unfinished.append(f"{name[-7:].replace('_', '-')}: {count}")
        if unfinished:
            months = ", ".join(unfinished)
            raise PartitionError(
                f"这些月份仍有未办结的诉求，不能归档：{months} / these months still hold unfinished demands "
                f"and cannot be archived: {months}"
            )
        for part, name in plan:
            started = time.monotonic()
            cursor.execute(f"ALTER TABLE {qn(part.table)} DETACH PARTITION {qn(name)}")
            detached.append(name)
            if log:
                log(f"detached {name} ({time.monotonic() - started:.2f} s)")
    return detached
