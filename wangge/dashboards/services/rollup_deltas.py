"""Rollup rows moved by deltas: the worker's refresh costs what changed, not the days it changed on.

A demand whose facts changed takes its old facts out of the rollup rows they fell in and adds its
new facts to the rows they fall in now: every counter, sum and histogram bucket of a row is a sum
over the demands in it, so the row after the change is the row before plus (new − old). The deltas
of a transaction's changed demands are summed per row in Python and applied with one upsert per row
(`… ON CONFLICT (day, key) DO UPDATE SET received = received + excluded.received, …`, the histograms
merged bucket by bucket in SQL); a row no demand falls in any more (received 0: every demand counts
once in `received`) is deleted. Before, a refresh regrouped every day a changed demand was received
on, at every level, from all of that day's facts: one demand of last year urged today re-read the
whole city's day.

Exactly once: a delta is applied by the transaction that changed the facts row, and only for the rows
its upsert changed (`fact_sql.upsert_facts_changed`). The old facts are read under a row lock on
PostgreSQL and inside SQLite's IMMEDIATE write transaction, so a concurrent refresh of the same
demand waits, then finds nothing to change. `rollup_rebuild` still regroups from the facts, and the
incremental-versus-rebuild test holds the two to the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from wangge.dashboards.models import COUNTERS, HISTOGRAMS, SUMS, Cut, DemandRollup, RollupLevel
from wangge.dashboards.services.fact_sql import FACT_COLUMNS
from wangge.dashboards.services.rollup_keys import GROUPS, LEVEL_COLUMNS
from wangge.registry.models import Area, Department

VALUES = (*COUNTERS, *SUMS)


@dataclass
class _Row:
    """The change of one rollup row: its identity and the sums to add (negative: to take away)."""

    day: dt.date
    level: str
    owner: int
    cut: str
    category_id: int | None
    channel: str
    key: str
    values: list[int]
    hists: dict[str, Counter[str]] = field(default_factory=dict)

    def is_zero(self) -> bool:
        return not any(self.values) and not any(v for h in self.hists.values() for v in h.values())

    def loses(self) -> bool:
        """Whether any count of the row goes down (the row must then already exist)."""
        return min(self.values) < 0 or any(v < 0 for h in self.hists.values() for v in h.values())


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _add(rows: dict[tuple[dt.date, str], _Row], fact: Sequence[Any], sign: int) -> None:
    """Add (sign 1) or take away (sign -1) one demand's facts row to the rows of every level and cut."""
    f = dict(zip(FACT_COLUMNS, fact, strict=True))
    day, bits = _day(f["day"]), int(f["bits"])
    values = [sign * ((bits >> i) & 1) for i in range(len(COUNTERS))] + [sign * int(f[s] or 0) for s in SUMS]
    for level, column, cut in GROUPS:
        owner = f[column]
        if owner is None:
            continue
        category_id, channel = None, ""
        if cut == Cut.TOTAL:
            tail = ":t:0"
        elif cut == Cut.CATEGORY:
            part = int(f["category_id"] or 0)
            category_id, tail = part or None, f":c:{part}"
        else:
            channel = str(f["channel"])
            tail = f":n:{channel}"
        key = f"{'d' if level == RollupLevel.DEPARTMENT else 'a'}{owner}{tail}"
        row = rows.get((day, key))
        if row is None:
            row = rows[(day, key)] = _Row(
                day,
                level,
                int(owner),
                cut,
                category_id,
                channel,
                key,
                [0] * len(VALUES),
                {h: Counter() for h in HISTOGRAMS},
            )
        row.values = [a + b for a, b in zip(row.values, values, strict=True)]
        for hist, bucket in (("accept_hist", f["accept_bucket"]), ("resolve_hist", f["resolve_bucket"])):
            if bucket is not None:
                row.hists[hist][str(int(bucket))] += sign


def _merge_hist(stored: str, delta: str) -> str:
    """SQL: the stored histogram plus the delta's, bucket by bucket, empty buckets dropped."""
    if connection.vendor == "postgresql":
        return (
            f"COALESCE((SELECT jsonb_object_agg(k, s) FROM (SELECT k, SUM(CAST(v AS BIGINT)) AS s FROM ("
            f"SELECT key AS k, value AS v FROM jsonb_each_text({stored}) UNION ALL "
            f"SELECT key, value FROM jsonb_each_text({delta})) u GROUP BY k) m WHERE s <> 0), '{{}}'::jsonb)"
        )
    return (
        f"COALESCE((SELECT json_group_object(k, s) FROM (SELECT k, SUM(CAST(v AS INTEGER)) AS s FROM ("
        f"SELECT key AS k, value AS v FROM json_each({stored}) UNION ALL "
        f"SELECT key, value FROM json_each({delta})) GROUP BY k) WHERE s <> 0), '{{}}')"
    )


def _paths(rows: Iterable[_Row]) -> dict[tuple[bool, int], str]:
    """The path of each owner (an area's own, a department's area's), as the regroup writes it."""
    areas = {r.owner for r in rows if r.level != RollupLevel.DEPARTMENT}
    departments = {r.owner for r in rows if r.level == RollupLevel.DEPARTMENT}
    paths = {(False, pk): path for pk, path in Area.objects.filter(pk__in=areas).values_list("pk", "path")}
    for pk, path in Department.objects.filter(pk__in=departments).values_list("pk", "area_path"):
        paths[(True, pk)] = path or ""
    return paths


def apply_fact_deltas(
    changes: Iterable[tuple[Sequence[Any] | None, Sequence[Any] | None]], now: dt.datetime
) -> tuple[set[dt.date], int, set[tuple[dt.date, str, int]]]:
    """Move the rollup rows by (old facts, new facts) of each changed demand (None: no row before / after).

    Call inside the transaction that changed the facts. Returns the days touched, the rows written, and
    (day, owner column, owner) of any row that should have been there to take from and was not (rollups
    out of step with the facts: the caller regroups those from the facts).

    A row that only gains is upserted (`ON CONFLICT … DO UPDATE`: a concurrent refresh may insert it
    first); a row that loses anything is updated in place, since a CHECK (counts are never negative)
    is tested on the row an upsert proposes before its conflict is.
    """
    rows: dict[tuple[dt.date, str], _Row] = {}
    for old, new in changes:
        if old is not None:
            _add(rows, old, -1)
        if new is not None:
            _add(rows, new, 1)
    moved = [r for r in rows.values() if not r.is_zero()]
    if not moved:
        return set(), 0, set()
    q = connection.ops.quote_name
    ops = connection.ops
    table = q(DemandRollup._meta.db_table)
    pg = connection.vendor == "postgresql"
    hist_param = "CAST(%s AS jsonb)" if pg else "%s"
    now_value = ops.adapt_datetimefield_value(now)
    gains: list[_Row] = []
    losses: list[_Row] = []
    for r in moved:
        (losses if r.loses() else gains).append(r)
    missed: set[tuple[dt.date, str, int]] = set()
    with connection.cursor() as cursor:
        if gains:
            columns = (
                "day", "level", "area_id", "area_path", "department_id", "cut", "category_id", "channel", "key",
                *VALUES, *HISTOGRAMS, "refreshed_at",
            )  # fmt: skip
            placeholders = ", ".join([*(["%s"] * (len(columns) - 3)), hist_param, hist_param, "%s"])
            sets = ", ".join(
                [
                    *(f"{q(c)} = {table}.{q(c)} + excluded.{q(c)}" for c in VALUES),
                    *(f"{q(h)} = {_merge_hist(f'{table}.{q(h)}', f'excluded.{q(h)}')}" for h in HISTOGRAMS),
                    f"{q('refreshed_at')} = excluded.{q('refreshed_at')}",
                ]
            )
            paths = _paths(gains)
            params = []
            for r in gains:
                department = r.level == RollupLevel.DEPARTMENT
                params.append(
                    (
                        ops.adapt_datefield_value(r.day),
                        r.level,
                        None if department else r.owner,
                        paths.get((department, r.owner), ""),
                        r.owner if department else None,
                        r.cut,
                        r.category_id,
                        r.channel,
                        r.key,
                        *r.values,
                        *(_hist_json(r, h) for h in HISTOGRAMS),
                        now_value,
                    )
                )
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES ({placeholders}) "
                f"ON CONFLICT ({q('day')}, {q('key')}) DO UPDATE SET {sets}",
                params,
            )
        if losses:
            sets = ", ".join(
                [
                    *(f"{q(c)} = {q(c)} + %s" for c in VALUES),
                    *(f"{q(h)} = {_merge_hist(f'{table}.{q(h)}', hist_param)}" for h in HISTOGRAMS),
                    f"{q('refreshed_at')} = %s",
                ]
            )
            update = f"UPDATE {table} SET {sets} WHERE {q('day')} = %s AND {q('key')} = %s"
            for r in losses:
                day = ops.adapt_datefield_value(r.day)
                cursor.execute(update, [*r.values, *(_hist_json(r, h) for h in HISTOGRAMS), now_value, day, r.key])
                if cursor.rowcount == 0:
                    column = "department_id" if r.level == RollupLevel.DEPARTMENT else LEVEL_COLUMNS[r.level]
                    missed.add((r.day, column, r.owner))
        # A row no demand falls in any more goes, as the regroup would leave it out (received is 0 on no
        # other row, so the days and keys of the losing rows may be crossed).
        for i in range(0, len(losses), 500):
            part = losses[i : i + 500]
            days = list({ops.adapt_datefield_value(r.day) for r in part})
            keys = sorted({r.key for r in part})
            cursor.execute(
                f"DELETE FROM {table} WHERE {q('received')} = 0 AND {q('day')} IN ({', '.join(['%s'] * len(days))})"
                f" AND {q('key')} IN ({', '.join(['%s'] * len(keys))})",
                [*days, *keys],
            )
    return {r.day for r in moved}, len(moved), missed


def _hist_json(row: _Row, hist: str) -> str:
    return json.dumps({k: v for k, v in row.hists[hist].items() if v})
