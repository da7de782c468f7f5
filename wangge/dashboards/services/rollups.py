"""The rollups: incremental, set-based, with no lock over the city.

Two steps, each touching only what changed:

1. **Facts.** Each demand that changed (a new event, or a limit passed by time alone) has its
   `DemandFacts` row recomputed in the database by `fact_sql.upsert_facts` (one INSERT … SELECT …
   ON CONFLICT over the chunk's ids, the SQL form of `measures.demand_facts`): the counters as
   bits, the sums, the histogram buckets, and the keys of the rollup rows it falls in (day, the
   area of each level above it, department, category, channel).
2. **Regroup.** The rollup rows those demands fall in, before and after the change (a demand
   moved to another area or category leaves its old rows), are recomputed in the database: one
   `INSERT … SELECT … GROUP BY … ON CONFLICT (day, key) DO UPDATE` per level and cut over the
   facts of the touched days and owners, and the rows of those owners that no demand falls in
   any more deleted. The same SQL on PostgreSQL and SQLite (both upsert; JSON aggregation by
   `jsonb_object_agg` / `json_group_object`).

The first build (`rollup_rebuild`) computes every demand's facts with the same statement over
ranges of ids (no demand passes through Python) and regroups everything in one statement per
level and cut. Running a refresh twice,
or on two workers at once, gives the same rows: every write is an upsert of values derived from
the demands.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate

from wangge.core import clock
from wangge.dashboards.facts import AreaIndex, day_bounds, visit_models
from wangge.dashboards.frontier import Frontier, advance, frontier_of, limits_passed_q
from wangge.dashboards.models import (
    COUNTERS,
    SUMS,
    ActivityRollup,
    Cut,
    DemandFacts,
    DemandRollup,
    RollupLevel,
    RollupState,
)
from wangge.dashboards.services import fact_sql, rollup_deltas
from wangge.dashboards.services.fact_sql import FACT_COLUMNS
from wangge.dashboards.services.rollup_keys import (
    ACTIVITY_LEVELS,
    EPOCH,
    GROUPS,
    ROLLUP_COLUMNS,
)
from wangge.demands.models import Demand, DemandEvent
from wangge.registry.models import Area, Department

CHUNK = 5000


@dataclass
class RefreshReport:
    """What one refresh did."""

    days: int = 0
    demands: int = 0
    rows: int = 0
    activity_days: int = 0
    seconds: float = 0.0
    # Of which the facts (step 1) and the regrouping (step 2): the rebuild times each.
    facts_seconds: float = 0.0
    regroup_seconds: float = 0.0
    days_list: list[dt.date] = field(default_factory=list)
    # The event and visit ids read (the worker's hook keeps which it has not seen: frontier).
    event_ids: set[int] = field(default_factory=set, repr=False)
    visit_ids: set[int] = field(default_factory=set, repr=False)

    def __str__(self) -> str:
        split = (
            f" (facts {self.facts_seconds * 1000:.0f} ms, regroup {self.regroup_seconds * 1000:.0f} ms)"
            if self.facts_seconds or self.regroup_seconds
            else ""
        )
        return (
            f"rollups: {self.days} days, {self.demands} demands, {self.rows} rows, "
            f"{self.activity_days} activity days; {self.seconds * 1000:.0f} ms{split}"
        )


# --- step 1: facts (services.fact_sql) ----------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


log = logging.getLogger("wangge.dashboards")


# --- step 2: regroup --------------------------------------------------------------------------


def _regroup_sql(level: str, column: str, cut: str, where: str, *, upsert: bool = True) -> str:
    """INSERT … SELECT … GROUP BY … ON CONFLICT of one level and cut over the facts `where` says.

    Without `upsert` a plain INSERT (the first build, into an emptied table inside its transaction).

    Parameters: those of `where`, then the refresh time.
    """
    facts = _q(DemandFacts._meta.db_table)
    if level == RollupLevel.DEPARTMENT:
        owner_table, path = _q(Department._meta.db_table), "o.area_path"
        area, department, prefix = "NULL", "g.owner", "d"
    else:
        owner_table, path = _q(Area._meta.db_table), "o.path"
        area, department, prefix = "g.owner", "NULL", "a"
    if cut == Cut.TOTAL:
        part, category, channel, tail = "0", "NULL", "''", "':t:0'"
    elif cut == Cut.CATEGORY:
        part, category, channel = "COALESCE(f.category_id, 0)", "NULLIF(g.part, 0)", "''"
        tail = "':c:' || CAST(g.part AS TEXT)"
    else:
        part, category, channel, tail = "f.channel", "NULL", "g.part", "':n:' || g.part"
    json_agg = "jsonb_object_agg" if connection.vendor == "postgresql" else "json_group_object"
    # Each bit summed as an integer: PostgreSQL sums a bigint into a 128-bit state, which took the
    # grid level's 1 M groups past work_mem (spilled to disk) at 1 M demands.
    counters = ", ".join(f"SUM(CAST((bits >> {i}) & 1 AS INTEGER)) AS c{i}" for i in range(len(COUNTERS)))
    # Both histograms from one grouping of (bucket, which) counts: one join to the totals instead of two.
    per_bucket = " UNION ALL ".join(
        f"SELECT day, owner, part, {k} AS k, {name}_bucket AS b, COUNT(*) AS n FROM base "
        f"WHERE {name}_bucket IS NOT NULL GROUP BY day, owner, part, {name}_bucket"
        for k, name in enumerate(("accept", "resolve"))
    )
    hists = (
        f"SELECT day, owner, part, {json_agg}(CAST(b AS TEXT), n) FILTER (WHERE k = 0) AS ah, "
        f"{json_agg}(CAST(b AS TEXT), n) FILTER (WHERE k = 1) AS rh FROM ({per_bucket}) x GROUP BY day, owner, part"
    )
    joins = "LEFT JOIN h ON h.day = g.day AND h.owner = g.owner AND h.part = g.part"
    values = ", ".join(
        (
            "g.day",
            f"'{level}'",
            area,
            f"COALESCE({path}, '')",
            department,
            f"'{cut}'",
            category,
            channel,
            f"'{prefix}' || CAST(g.owner AS TEXT) || {tail}",
            *(f"g.c{i}" for i in range(len(COUNTERS))),
            *(f"g.{name}" for name in SUMS),
            "COALESCE(h.ah, '{}')",
            "COALESCE(h.rh, '{}')",
            "%s",
        )
    )
    rollups = _q(DemandRollup._meta.db_table)
    columns = ", ".join(_q(c) for c in ROLLUP_COLUMNS)
    sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in ROLLUP_COLUMNS if c not in ("day", "key"))
    return (
        f"WITH base AS (SELECT f.day AS day, f.{column} AS owner, {part} AS part, f.bits AS bits, "
        f"f.urges AS urges, f.accept_seconds AS accept_seconds, f.resolve_seconds AS resolve_seconds, "
        f"f.accept_bucket AS accept_bucket, f.resolve_bucket AS resolve_bucket "
        f"FROM {facts} f WHERE f.{column} IS NOT NULL AND ({where})), "
        f"h AS ({hists}), "
        f"g AS (SELECT day, owner, part, {counters}, SUM(urges) AS urges, SUM(accept_seconds) AS accept_seconds, "
        f"SUM(resolve_seconds) AS resolve_seconds FROM base GROUP BY day, owner, part) "
        f"INSERT INTO {rollups} ({columns}) SELECT {values} FROM g {joins} "
        f"LEFT JOIN {owner_table} o ON o.id = g.owner WHERE true "
        + (f"ON CONFLICT ({_q('day')}, {_q('key')}) DO UPDATE SET {sets}" if upsert else "")
    )


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def _regroup(days: list[dt.date], owners: dict[str, set[int]] | None, now: dt.datetime, *, upsert: bool = True) -> int:
    """Recompute the rollup rows of `days` (every day when empty) of the owners named per owner column (all when None).

    Returns the rows written.
    """
    written = 0
    now_value = connection.ops.adapt_datetimefield_value(now)
    day_values = [connection.ops.adapt_datefield_value(d) for d in days]
    rollups = _q(DemandRollup._meta.db_table)
    with connection.cursor() as cursor:
        for level, column, cut in GROUPS:
            ids = None if owners is None else sorted(owners.get(column, ()))
            if ids is not None and not ids:
                continue
            for i in range(0, max(len(day_values), 1), 200):
                day_sql, day_params = _in(day_values[i : i + 200])
                where, params = (f"f.day IN ({day_sql})", list(day_params)) if days else ("1 = 1", [])
                target = "department_id" if level == RollupLevel.DEPARTMENT else "area_id"
                # The rows of these days and owners go, and come back from the facts (a bucket no
                # demand falls in any more stays gone); the upsert covers a concurrent refresh.
                scope, scope_params = "level = %s AND cut = %s", [level, cut]
                if days:
                    scope += f" AND day IN ({day_sql})"
                    scope_params += day_params
                if ids is not None:
                    id_sql, id_params = _in(ids)
                    where += f" AND f.{column} IN ({id_sql})"
                    params += id_params
                    scope += f" AND {target} IN ({id_sql})"
                    scope_params += id_params
                cursor.execute(f"DELETE FROM {rollups} WHERE {scope}", scope_params)
                cursor.execute(_regroup_sql(level, column, cut, where, upsert=upsert), [*params, now_value])
                written += max(cursor.rowcount, 0)
    return written


# --- refresh ----------------------------------------------------------------------------------


def _changed_ids(
    since: dt.datetime, now: dt.datetime, events: Frontier | None, days: Iterable[dt.date]
) -> tuple[set[int], set[int]]:
    """The demands whose facts may have changed (new events, or updated since `since`; limits passed since
    `since`; received on `days`), and the ids of the events read."""
    ids: set[int] = set()
    seen: set[int] = set()
    if events is None:
        ids.update(Demand.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    else:
        # Every change of a demand appends an event: new events name the demands that changed.
        for pk, demand_id in DemandEvent.objects.filter(events.q()).values_list("pk", "demand_id"):
            seen.add(pk)
            ids.add(demand_id)
    # Time alone turns a demand overdue or late for its case deadline (no row changes then).
    ids.update(Demand.objects.filter(limits_passed_q(since, now)).values_list("pk", flat=True))
    for day in days:
        start, end = day_bounds(day)
        ids.update(Demand.objects.filter(created_at__gte=start, created_at__lt=end).values_list("pk", flat=True))
    return ids, seen


def _refresh_demands(ids: set[int], now: dt.datetime) -> tuple[set[dt.date], int, int]:
    """Recompute the facts of `ids` and move the rollup rows by what changed: (days touched, demands, rows).

    Each chunk is one transaction: its facts and the rollup rows they move commit together
    (services.rollup_deltas).
    """
    days: set[dt.date] = set()
    demands = written = 0
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i : i + CHUNK]
        with transaction.atomic():
            # Locked (PostgreSQL; SQLite's transactions are IMMEDIATE): a concurrent refresh of these
            # demands waits here, then finds their facts already up to date.
            old = {
                r[0]: r
                for r in DemandFacts.objects.select_for_update()
                .filter(demand_id__in=chunk)
                .order_by("demand_id")
                .values_list(*FACT_COLUMNS)
            }
            # One read of the demands by id (on PostgreSQL every month's partition is probed): it
            # tells which are gone, and names their months to the facts' statement.
            heads = fact_sql.demand_heads(chunk)
            changed = fact_sql.upsert_facts_changed(ids=chunk, now=now, heads=heads)
            # Deleted demands leave the rollups too.
            gone = set(old) - set(heads)
            if gone:
                DemandFacts.objects.filter(demand_id__in=gone).delete()
            new = {r[0]: r for r in DemandFacts.objects.filter(demand_id__in=changed).values_list(*FACT_COLUMNS)}
            demands += len(chunk) - len(gone)
            touched, rows, missed = rollup_deltas.apply_fact_deltas(
                ((old.get(pk), new.get(pk)) for pk in sorted(changed | gone)), now
            )
            if missed:  # rollups out of step with the facts there: those rows again from the facts
                log.warning("rollups: %d rows missing under changed facts, regrouped", len(missed))
                owners: dict[str, set[int]] = defaultdict(set)
                for _day, column, owner in missed:
                    owners[column].add(owner)
                rows += _regroup(sorted({m[0] for m in missed}), owners, now)
            days |= touched
            written += rows
    return days, demands, written


def rollup_refresh(
    *,
    since: dt.datetime,
    days: Iterable[dt.date] = (),
    after_event: int | None = None,
    after_visit: int | None = None,
    events: Frontier | None = None,
    visits: Frontier | None = None,
) -> RefreshReport:
    """Recompute the facts of the demands changed since `since` (and of `days`), and the rows they fall in.

    Only facts that differ from the stored ones touch rollup rows; the days of `days` are regrouped whole.

    What changed is found by `updated_at >= since`, or, when given, by events and visits with an
    id above `after_event` / `after_visit`, or those a frontier names (the worker's way: primary-key
    ranges, frontier). Idempotent.
    """
    started = time.perf_counter()
    now = clock.now()
    asked = sorted(set(days))
    if events is None and after_event is not None:
        events = Frontier(top=after_event)
    if visits is None and after_visit is not None:
        visits = Frontier(top=after_visit)
    ids, report_events = _changed_ids(since, now, events, asked)
    report = RefreshReport(event_ids=report_events)
    touched_days: set[dt.date] = set()
    if ids:
        touched_days, report.demands, report.rows = _refresh_demands(ids, now)
    if asked:  # the days asked for are regrouped whole, whether their facts changed or not
        with transaction.atomic():
            report.rows += _regroup(asked, None, now)
    report.days_list = sorted(touched_days | set(asked))
    report.days = len(report.days_list)
    report.activity_days, report.visit_ids = _activity_refresh(since=since, visits=visits)
    report.seconds = time.perf_counter() - started
    return report


def _top_ids() -> tuple[int, int]:
    models = visit_models()
    top_event = DemandEvent.objects.aggregate(top=Max("pk"))["top"] or 0
    top_visit = (models[0].objects.aggregate(top=Max("pk"))["top"] or 0) if models else 0
    return int(top_event), int(top_visit)


def rollup_refresh_recent() -> RefreshReport:
    """The worker hook: refresh what changed since the last refresh began (a full build the first time).

    Changed demands are named by the events (and visits) above the highest id the last refresh read,
    and by those below it that it did not see then (in flight, or rolled back): an id handed out but
    committed late is still caught (frontier). Limits passed by time alone are read
    from when the last refresh began: its facts were computed after that.
    """
    state, _created = RollupState.objects.get_or_create(name="demands")
    if state.refreshed_at is None:
        return rollup_rebuild()
    began = clock.now()
    events = frontier_of(state.pending, "events", state.last_event_id)
    visits = frontier_of(state.pending, "visits", state.last_visit_id)
    report = rollup_refresh(since=state.refreshed_at, events=events, visits=visits)
    events = advance(events, report.event_ids, began)
    visits = advance(visits, report.visit_ids, began)
    RollupState.objects.filter(pk=state.pk).update(
        refreshed_at=began,
        last_event_id=events.top,
        last_visit_id=visits.top,
        pending={"events": events.to_json(), "visits": visits.to_json()},
        finished_at=clock.now(),
        days=report.days,
        seconds=report.seconds,
    )
    return report


def rollup_rebuild() -> RefreshReport:
    """Recompute every demand's facts and every rollup row (after a change of definitions, or the first time).

    The facts are written by ranges of ids (DASHBOARD_ROLLUP_BUILD_CHUNK demands a statement), then
    each level and cut is one GROUP BY over the whole facts table. The rollups are replaced in one
    transaction, so a page reads the old rows or the new ones. On PostgreSQL the transaction's
    work_mem is raised (DASHBOARD_ROLLUP_BUILD_WORK_MEM) so that its hash joins and aggregates over
    every demand stay in memory instead of spilling to disk.
    """
    started = time.perf_counter()
    began = clock.now()
    top_event, top_visit = _top_ids()
    report = RefreshReport()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            work_mem = str(getattr(settings, "DASHBOARD_ROLLUP_BUILD_WORK_MEM", "256MB"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        DemandFacts.objects.all().delete()
        # Ranges of ids, each one INSERT … SELECT (services.fact_sql): a bounded statement, not a loop in Python.
        chunk = int(getattr(settings, "DASHBOARD_ROLLUP_BUILD_CHUNK", 200_000))
        last = 0
        while True:
            nth = list(
                Demand.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[chunk - 1 : chunk]
            )
            upper = int(nth[0]) if nth else int(Demand.objects.aggregate(top=Max("pk"))["top"] or 0)
            if upper <= last:
                break
            report.demands += fact_sql.upsert_facts(id_range=(last + 1, upper), now=began)
            last = upper
        report.facts_seconds = time.perf_counter() - started
        DemandRollup.objects.all().delete()
        report.rows = _regroup([], None, began, upsert=False)
        report.regroup_seconds = time.perf_counter() - started - report.facts_seconds
    report.days_list = sorted(DemandRollup.objects.values_list("day", flat=True).distinct())
    report.days = len(report.days_list)
    report.activity_days = activity_refresh(since=EPOCH)
    report.seconds = time.perf_counter() - started
    RollupState.objects.update_or_create(
        name="demands",
        defaults={
            "refreshed_at": began,
            "last_event_id": top_event,
            "last_visit_id": top_visit,
            # The ids in flight during the build are not known: the next refresh reads the margin below
            # the top once (frontier.frontier_of).
            "pending": {},
            "finished_at": clock.now(),
            "days": report.days,
            "seconds": report.seconds,
        },
    )
    return report


# --- visits and opinions --------------------------------------------------------------------


def _lock(name: str) -> RollupState:
    """Take the state row of a rollup inside the current transaction (serialises activity refreshes)."""
    RollupState.objects.get_or_create(name=name)
    return RollupState.objects.select_for_update().get(name=name)


def activity_refresh(*, since: dt.datetime, after_visit: int | None = None) -> int:
    """Recompute visit and opinion counts of the days touched by visits logged since `since` (or after an id)."""
    return _activity_refresh(since=since, visits=None if after_visit is None else Frontier(top=after_visit))[0]


def _activity_refresh(*, since: dt.datetime, visits: Frontier | None) -> tuple[int, set[int]]:
    """`activity_refresh` of the visits a frontier names (else logged since `since`): (days, visit ids read)."""
    models = visit_models()
    if models is None:
        return 0, set()
    visit, opinion = models
    logged = visit.objects.filter(visits.q()) if visits is not None else visit.objects.filter(created_at__gte=since)
    seen: set[int] = set()
    days: set[dt.date] = set()
    for pk, day in logged.annotate(day=TruncDate("visited_at", tzinfo=clock.local_tz())).values_list("pk", "day"):
        seen.add(pk)
        days.add(day)
    if seen:
        days |= set(
            opinion.objects.filter(visit__in=logged.values("pk"))
            .annotate(day=TruncDate("created_at", tzinfo=clock.local_tz()))
            .values_list("day", flat=True)
            .distinct()
        )
    if not days:
        return 0, seen
    index = AreaIndex()
    for day in sorted(days):
        start, end = day_bounds(day)
        counts: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
        with transaction.atomic():
            _lock("activity")
            now = clock.now()
            for path in visit.objects.filter(visited_at__gte=start, visited_at__lt=end).values_list(
                "area_path", flat=True
            ):
                for level, area_id, prefix in index.ancestors(path):
                    if level in ACTIVITY_LEVELS:
                        counts[(level, area_id, prefix)][0] += 1
            for path in opinion.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
                "area_path", flat=True
            ):
                for level, area_id, prefix in index.ancestors(path):
                    if level in ACTIVITY_LEVELS:
                        counts[(level, area_id, prefix)][1] += 1
            ActivityRollup.objects.filter(day=day).delete()
            ActivityRollup.objects.bulk_create(
                ActivityRollup(
                    day=day, level=level, area_id=area_id, area_path=prefix, visits=v, opinions=o, refreshed_at=now
                )
                for (level, area_id, prefix), (v, o) in counts.items()
            )
    return len(days), seen
