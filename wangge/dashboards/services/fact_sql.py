"""Each demand's `DemandFacts` row computed in the database: one `INSERT … SELECT` over the demands.

The SELECT computes what `measures.demand_facts` computes over `facts.demand_rows` (the live
figures' reading, kept for small scopes and checked equal to this one by
dashboards/tests/test_fact_sql.py), so the first build is set-based instead of a Python loop:

- the event facts (reopened, sent back, returned, the first automatic escalation, the first
  unsatisfied reopen by the resident) are one GROUP BY over the few events that matter, and the
  first reached call back that answered each question is a ROW_NUMBER over the call backs;
- the owners of each level (city … grid) are the areas whose paths are the prefixes of the demand's
  `area_path`, by depth (`AreaIndex.ancestors`), found once per distinct path;
- working time (opening hours of working days, `holidays.workdays.working_hours_between`) is a
  difference of one cumulative clock: W(t) = working days before t's local day × the opening span
  + the part of t's own day inside the opening hours (when it is a working day). Which days are
  working days is asked of `workdays.is_workday` (the one rule, holidays and 调休 included) for the
  days the demands span, and passed in as a VALUES table; seconds are rounded as Python's `round`
  does (half to even) on the same floating-point value;
- the histogram bucket is `measures.bucket` in SQL (the same `ln` on the same doubles).

The same SQL on PostgreSQL and SQLite, but for the few functions named differently (`_Dialect`).
`upsert_facts` is the facts' one writer: the first build (a range of ids) and the incremental
refresh (a list of ids, `ON CONFLICT (demand_id) DO UPDATE` only where a value differs).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min

from wangge.core.clock import local_tz
from wangge.dashboards.facts import EVENT_ACTIONS, EVENT_SLACK
from wangge.dashboards.measures import (
    ANSWERED,
    HIST_MAX,
    HIST_RATIO,
    LEVELS,
    NOT_HANDLED,
    OPEN,
    RESOLVED,
    UNFINISHED,
    WAITING,
)
from wangge.dashboards.models import COUNTERS, DemandFacts
from wangge.demands.models import CallBack, Demand, DemandEvent
from wangge.holidays.workdays import is_workday, workday_bounds
from wangge.registry.models import Area

# The DemandFacts columns, in the order the INSERT writes them (and the refresh compares them).
FACT_COLUMNS = (
    "demand_id",
    "day",
    "city_id",
    "town_id",
    "village_id",
    "branch_id",
    "grid_id",
    "department_id",
    "category_id",
    "channel",
    "bits",
    "urges",
    "accept_seconds",
    "resolve_seconds",
    "accept_bucket",
    "resolve_bucket",
)
_MICRO = 1_000_000
SLASH = "'/'"
# `measures.bucket`'s divisor, the same double.
LOG_RATIO = math.log(HIST_RATIO)


@dataclass(frozen=True)
class _Dialect:
    """The functions PostgreSQL and SQLite name differently."""

    vendor: str

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    @property
    def fence(self) -> str:
        """Ends a subquery so the planner keeps it (its columns computed once) instead of inlining its
        expressions into every place the outer query names them."""
        return " OFFSET 0" if self.pg else " LIMIT -1 OFFSET 0"

    def strpos(self, text: str, needle: str) -> str:
        return f"{'STRPOS' if self.pg else 'INSTR'}({text}, {needle})"

    def least(self, *args: str) -> str:
        return f"{'LEAST' if self.pg else 'MIN'}({', '.join(args)})"

    def greatest(self, *args: str) -> str:
        return f"{'GREATEST' if self.pg else 'MAX'}({', '.join(args)})"

    def floor_int(self, value: str) -> str:
        """The integer part of a non-negative double (PostgreSQL's CAST rounds; SQLite's truncates)."""
        return f"CAST(FLOOR({value}) AS BIGINT)" if self.pg else f"CAST({value} AS INTEGER)"

    def double(self, value: str) -> str:
        return f"CAST({value} AS {'DOUBLE PRECISION' if self.pg else 'REAL'})"

    def local_day_and_time(self, column: str, tz: str) -> tuple[str, str]:
        """(local date, local time of day in microseconds) of a stored UTC datetime column."""
        if self.pg:
            local = f"({column} AT TIME ZONE '{tz}')"
            return f"CAST({local} AS DATE)", f"CAST(EXTRACT(EPOCH FROM CAST({local} AS TIME)) * {_MICRO} AS BIGINT)"
        # Django's own SQLite functions (those TruncDate uses): 'YYYY-MM-DD' and 'HH:MM:SS[.ffffff]'.
        conn_tz = connection.timezone_name
        day = f"django_datetime_cast_date({column}, '{tz}', '{conn_tz}')"
        t = f"django_datetime_cast_time({column}, '{tz}', '{conn_tz}')"
        return day, t

    def time_us(self, value: str) -> str:
        """Microseconds of the day from what `local_day_and_time` gave (a no-op on PostgreSQL)."""
        if self.pg:
            return value
        return (
            f"(CAST(SUBSTR({value}, 1, 2) AS INTEGER) * 3600000000 + CAST(SUBSTR({value}, 4, 2) AS INTEGER) * 60000000"
            f" + CAST(SUBSTR({value}, 7, 2) AS INTEGER) * 1000000"
            f" + CASE WHEN LENGTH({value}) > 8 THEN CAST(SUBSTR({value}, 10, 6) AS INTEGER) ELSE 0 END)"
        )


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _strings(values: Sequence[str] | frozenset[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _tz_name() -> str:
    name = str(local_tz())
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):  # pragma: no cover - a settings error
        raise ValueError(f"unexpected time zone name {name!r}")
    return name


# --- the calendar of working days -------------------------------------------------------------


def _day_range(demands: Any) -> tuple[dt.date, dt.date] | None:
    """First and last local day any time the facts read (received, accepted, resolved) falls on."""
    agg = demands.aggregate(
        c0=Min("created_at"), c1=Max("created_at"), a0=Min("accepted_at"), a1=Max("accepted_at"),
        r0=Min("resolved_at"), r1=Max("resolved_at"),
    )  # fmt: skip
    return _moments_range([v for v in agg.values() if v is not None])


def _calendar_sql(first: dt.date, last: dt.date, pg: bool) -> str:
    """`cal(day, before, work)`: each day, the working days before it (from `first`), 1 if it is one."""
    rows: list[str] = []
    before = 0
    day = first
    while day <= last:
        work = int(is_workday(day))
        literal = f"CAST('{day.isoformat()}' AS DATE)" if pg and not rows else f"'{day.isoformat()}'"
        rows.append(f"({literal}, {before}, {work})")
        before += work
        day += dt.timedelta(days=1)
    return "cal(day, before, work) AS (VALUES " + ", ".join(rows) + ")"


# --- the SELECT -------------------------------------------------------------------------------


def _owners_sql(d: _Dialect, scope: str) -> str:
    """`own(path, level, city_id … grid_id)`: per distinct area path, the area of each depth above it."""
    demands = _q(Demand._meta.db_table)
    areas = _q(Area._meta.db_table)
    # p1 … p5: where the k-th "/" of the path (trailing "/" made one) is; NULL past the last.
    stages = [
        f"SELECT DISTINCT area_path AS path, RTRIM(area_path, '/') || '/' AS np FROM {demands} WHERE {scope}",
    ]
    previous = "s0"
    for k in range(1, len(LEVELS) + 1):
        found = d.strpos("np" if k == 1 else f"SUBSTR(np, p{k - 1} + 1)", SLASH)
        pos = f"NULLIF({found}, 0)" if k == 1 else f"p{k - 1} + NULLIF({found}, 0)"
        stages.append(f"SELECT {previous}.*, {pos} AS p{k} FROM ({stages[-1]}{d.fence}) {previous}")
        previous = f"s{k}"
    joins = " ".join(
        f"LEFT JOIN {areas} a{k} ON a{k}.path = SUBSTR(x.np, 1, x.p{k})" for k in range(1, len(LEVELS) + 1)
    )
    # The level of the demand's own area: its depth (`measures.level_of_path`).
    depth = "(LENGTH(x.np) - LENGTH(REPLACE(x.np, '/', '')))"
    level = "CASE " + " ".join(f"WHEN {depth} = {i} THEN '{name}'" for i, name in enumerate(LEVELS, 1)) + " ELSE '' END"
    ids = ", ".join(f"a{k}.id AS {name}_id" for k, name in enumerate(LEVELS, 1))
    return f"own AS (SELECT x.path AS path, {level} AS area_level, {ids} FROM ({stages[-1]}{d.fence}) x {joins})"


def _select_sql(d: _Dialect, scope: str, event_scope: str, call_scope: str) -> str:
    """The SELECT of one DemandFacts row (FACT_COLUMNS order) per demand `scope` names. Parameter: %(now)s."""
    tz = _tz_name()
    demands, events, calls = (_q(m._meta.db_table) for m in (Demand, DemandEvent, CallBack))
    open_t, close_t = workday_bounds()
    open_us = (open_t.hour * 3600 + open_t.minute * 60) * _MICRO
    span_us = max(0, (close_t.hour * 3600 + close_t.minute * 60) * _MICRO - open_us)
    actions = _strings(EVENT_ACTIONS)
    ev = (
        f"SELECT demand_id, MAX(CASE WHEN action = 'reopen' THEN 1 ELSE 0 END) AS reopened, "
        f"MAX(CASE WHEN action = 'verify_back' THEN 1 ELSE 0 END) AS sent_back, "
        f"MAX(CASE WHEN action = 'return_' OR (action = 'reject' AND to_state = 'escalated') THEN 1 ELSE 0 END) "
        f"AS returned, MIN(CASE WHEN action = 'auto_escalate' THEN at END) AS auto_at, "
        f"MIN(CASE WHEN action = 'reopen' AND actor_kind = 'resident' THEN at END) AS unsat_at "
        f"FROM {events} WHERE action IN {actions} AND {event_scope} GROUP BY demand_id"
    )

    def first_call(answered: str, value: str) -> str:
        return (
            f"SELECT demand_id, at, {value} AS value FROM (SELECT demand_id, at, {value}, "
            f"ROW_NUMBER() OVER (PARTITION BY demand_id ORDER BY at, id) AS rn FROM {calls} "
            f"WHERE reached AND {answered} AND {call_scope}) c WHERE rn = 1"
        )

    cb = first_call("satisfaction IS NOT NULL AND satisfaction <> ''", "satisfaction")
    cs = first_call("solved IS NOT NULL", "solved")
    local = {name: d.local_day_and_time(f"d.{name}", tz) for name in ("created_at", "accepted_at", "resolved_at")}
    # A: the demand, its event and call-back facts, its owners, and the local day and time of its times.
    a = (
        "SELECT d.id AS id, d.created_at AS created_at, d.state AS state, d.accepted_at AS accepted_at, "
        "d.accept_due_at AS accept_due_at, d.resolved_at AS resolved_at, d.resolve_due_at AS resolve_due_at, "
        "d.satisfaction AS satisfaction, d.highest_level AS highest_level, d.escalations AS escalations, "
        "d.dispatched_department_id AS dept, d.category_id AS category_id, d.rated_at AS rated_at, "
        "d.channel AS channel, d.case_due_at AS case_due_at, d.extensions AS extensions, d.urges AS urges, "
        "d.rated_solved AS rated_solved, COALESCE(e.reopened, 0) AS reopened, COALESCE(e.sent_back, 0) AS sent_back, "
        "COALESCE(e.returned, 0) AS returned, e.auto_at AS auto_at, e.unsat_at AS unsat_at, "
        "cb.at AS cb_at, cb.value AS cb_sat, cs.at AS cs_at, cs.value AS cs_solved, "
        "own.area_level AS area_level, "
        + ", ".join(f"own.{name}_id AS {name}_id" for name in LEVELS)
        + ", "
        + ", ".join(f"{day} AS {name[0]}_day, {time} AS {name[0]}_time" for name, (day, time) in local.items())
        + f" FROM {demands} d LEFT JOIN ({ev}) e ON e.demand_id = d.id LEFT JOIN ({cb}) cb ON cb.demand_id = d.id "
        f"LEFT JOIN ({cs}) cs ON cs.demand_id = d.id LEFT JOIN own ON own.path = d.area_path WHERE {scope}"
    )

    def clock(prefix: str) -> str:
        """W(t): working microseconds from the calendar's first day to t (NULL when t is)."""
        inside = d.least(d.greatest(f"{d.time_us(f'a.{prefix}_time')} - {open_us}", "0"), str(span_us))
        return f"(c{prefix}.before * {span_us} + c{prefix}.work * {inside})"

    w_created = clock("c")
    # B: the working microseconds to accept and to resolve, and the first answers.
    rating_at = "COALESCE(a.unsat_at, a.rated_at, a.resolved_at, a.created_at)"
    has_rating = "(a.unsat_at IS NOT NULL OR (a.satisfaction IS NOT NULL AND a.satisfaction <> ''))"
    rating = "CASE WHEN a.unsat_at IS NOT NULL THEN 'unsatisfied' ELSE a.satisfaction END"
    answer = (
        f"CASE WHEN {has_rating} AND (a.cb_at IS NULL OR {rating_at} <= a.cb_at) THEN {rating} "
        "WHEN a.cb_at IS NOT NULL THEN a.cb_sat END"
    )
    solved = (
        f"CASE WHEN a.rated_solved IS NOT NULL AND (a.cs_at IS NULL OR {rating_at} <= a.cs_at) THEN a.rated_solved "
        "WHEN a.cs_at IS NOT NULL THEN a.cs_solved END"
    )
    accept_us = d.greatest(f"{clock('a')} - {w_created}", "0")
    resolve_us = d.greatest(f"{clock('r')} - {w_created}", "0")
    b = (
        f"SELECT a.*, {accept_us} AS accept_us, {resolve_us} AS resolve_us, "
        f"{answer} AS answer, {solved} AS solved_answer FROM ({a}{d.fence}) a "
        "LEFT JOIN cal cc ON cc.day = a.c_day LEFT JOIN cal ca ON ca.day = a.a_day LEFT JOIN cal cr ON cr.day = a.r_day"
    )
    # C: seconds as double, as `round(working_hours_between(…) * 3600)` sees them; the conditions as 0/1.
    now = "%(now)s"

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    hours = f"{d.double('{}')} / {d.double(str(_MICRO))} / {d.double('3600')} * {d.double('3600')}"
    case_due = "COALESCE(b.case_due_at, b.resolve_due_at)"
    c = (
        f"SELECT b.*, {hours.format('b.accept_us')} AS accept_x, {hours.format('b.resolve_us')} AS resolve_x, "
        f"COALESCE(NULLIF(b.highest_level, ''), b.area_level) AS highest, "
        f"{flag(f'b.state IN {_strings(OPEN)}')} AS is_open, "
        f"{flag(f'b.state IN {_strings(WAITING)} AND b.accept_due_at < {now}')} AS waiting_late, "
        f"{flag(f'b.resolve_due_at < {now}')} AS resolve_late, "
        f"{flag('b.accepted_at IS NOT NULL')} AS acc, "
        f"{flag(f'b.state IN {_strings(RESOLVED)} AND b.resolved_at IS NOT NULL')} AS res, "
        f"{flag(f'b.state IN {_strings(ANSWERED)} AND b.resolved_at IS NOT NULL')} AS ans, "
        f"{flag(f'b.state NOT IN {_strings(NOT_HANDLED)}')} AS handled, "
        f"{flag('b.dept IS NOT NULL')} AS dispatched, "
        f"{flag('b.auto_at IS NOT NULL AND (b.accepted_at IS NULL OR b.auto_at < b.accepted_at)')} AS auto, "
        f"{flag(f'{case_due} < {now}')} AS case_late, "
        f"{flag(f'{case_due} IS NULL OR b.resolved_at <= {case_due}')} AS in_case_time "
        f"FROM ({b}{d.fence}) b"
    )

    def half_even(x: str) -> str:
        whole = d.floor_int(x)
        return f"({whole} + CASE WHEN {x} - {whole} > 0.5 THEN 1 WHEN {x} - {whole} = 0.5 THEN {whole} %% 2 ELSE 0 END)"

    counters = {
        "received": "1",
        "open": flag(f"c.state IN {_strings(UNFINISHED)}"),
        "overdue": flag("c.is_open = 1 AND (c.resolve_late = 1 OR c.waiting_late = 1)"),
        "accepted": "c.acc",
        "response_due": flag("c.acc = 1 OR c.auto = 1 OR c.waiting_late = 1"),
        "responded_on_time": flag(
            "c.acc = 1 AND c.auto = 0 AND (c.accept_due_at IS NULL OR c.accepted_at <= c.accept_due_at)"
        ),
        "resolved": "c.res",
        "answered": "c.ans",
        "ontime_due": flag("c.ans = 1 OR (c.is_open = 1 AND c.case_late = 1)"),
        "resolved_on_time": flag("c.ans = 1 AND c.in_case_time = 1"),
        "asked_solved": flag("c.solved_answer IS NOT NULL"),
        "solved": flag("c.solved_answer IS NOT NULL AND c.solved_answer"),
        "resolved_ever": flag("c.resolved_at IS NOT NULL"),
        "reworked": flag("c.reopened = 1 OR c.sent_back = 1"),
        "rated": flag("c.answer IS NOT NULL"),
        "satisfied": flag("c.answer IN ('basic', 'satisfied')"),
        "handed_on": flag("c.escalations > 0 OR c.dispatched = 1"),
        "returned": "c.returned",
        "local": flag("c.res = 1 AND c.highest = c.area_level AND c.dispatched = 0"),
        "handled": "c.handled",
        "extended": flag("c.handled = 1 AND c.extensions > 0"),
        "rejected": flag("c.state = 'rejected'"),
        "merged": flag("c.state = 'merged'"),
        "closed": flag("c.state = 'closed'"),
        "climb_department": "c.dispatched",
        **{f"climb_{level}": flag(f"c.highest = '{level}'") for level in LEVELS},
    }
    bits = " + ".join(f"{counters[name]} * {1 << i}" for i, name in enumerate(COUNTERS))
    # D: the facts' values: the owners, the bits, whole seconds.
    dd = (
        "SELECT c.id AS id, c.c_day AS day, "
        + ", ".join(f"c.{name}_id AS {name}_id" for name in LEVELS)
        + f", c.dept AS dept, c.category_id AS category_id, c.channel AS channel, CAST({bits} AS BIGINT) AS bits, "
        f"c.urges AS urges, c.acc AS acc, c.ans AS ans, "
        f"CASE WHEN c.accepted_at IS NULL THEN 0 ELSE {half_even('c.accept_x')} END AS accept_seconds, "
        f"CASE WHEN c.ans = 1 THEN {half_even('c.resolve_x')} ELSE 0 END AS resolve_seconds FROM ({c}{d.fence}) c"
    )

    def bucket(seconds: str, when: str) -> str:
        log = f"LN({d.double(seconds)} / {d.double('60')}) / {d.double(repr(LOG_RATIO))}"
        return (
            f"CASE WHEN {when} = 0 THEN NULL WHEN {seconds} < 60 THEN 0 "
            f"ELSE {d.least(str(HIST_MAX), f'1 + {d.floor_int(log)}')} END"
        )

    return (
        "SELECT x.id, x.day, "
        + ", ".join(f"x.{name}_id" for name in LEVELS)
        + ", x.dept, x.category_id, x.channel, x.bits, x.urges, x.accept_seconds, x.resolve_seconds, "
        f"{bucket('x.accept_seconds', 'x.acc')}, {bucket('x.resolve_seconds', 'x.ans')} "
        f"FROM ({dd}{d.fence}) x WHERE 1 = 1"
    )


def upsert_facts(*, ids: Sequence[int] | None = None, id_range: tuple[int, int] | None = None, now: dt.datetime) -> int:
    """Compute and write the facts of the demands named (a list of ids, or ids lo..hi inclusive).

    Existing facts rows are updated only where a value differs. Returns the demands read.
    """
    return _upsert(ids=ids, id_range=id_range, now=now, returning=False)[0]


# What the refresh reads of each demand before its facts: (created_at, accepted_at, resolved_at).
Heads = dict[int, tuple[dt.datetime, dt.datetime | None, dt.datetime | None]]


def demand_heads(ids: Sequence[int]) -> Heads:
    """(created_at, accepted_at, resolved_at) of each of `ids` that exists: one read of the demands."""
    return {
        int(pk): (created, accepted, resolved)
        for pk, created, accepted, resolved in Demand.objects.filter(pk__any=list(ids)).values_list(
            "pk", "created_at", "accepted_at", "resolved_at"
        )
    }


def upsert_facts_changed(*, ids: Sequence[int], now: dt.datetime, heads: Heads | None = None) -> set[int]:
    """`upsert_facts` of a list of ids; returns the ids whose facts row this statement inserted or changed.

    A row another refresh already brought to the same values is not returned: the rollup deltas of a
    change are applied by the one transaction that wrote it (services.rollup_deltas).

    With `heads` (`demand_heads` of the ids, read by the caller) the calendar's days come from them
    instead of another read, ids not in them are gone and skipped, and on PostgreSQL the statement
    names the creation times of the demands, so that it reads only their months' partitions of the
    demands (a list of ids alone is looked up in every month).
    """
    return _upsert(ids=ids, id_range=None, now=now, returning=True, heads=heads)[1]


def _moments_range(moments: list[dt.datetime]) -> tuple[dt.date, dt.date] | None:
    """First and last local day of `moments`, a day beyond each (the calendar's bounds)."""
    if not moments:
        return None
    tz = local_tz()
    days = [m.astimezone(tz).date() for m in moments]
    return min(days) - dt.timedelta(days=1), max(days) + dt.timedelta(days=1)


def _upsert(
    *,
    ids: Sequence[int] | None,
    id_range: tuple[int, int] | None,
    now: dt.datetime,
    returning: bool,
    heads: Heads | None = None,
) -> tuple[int, set[int]]:
    params: dict[str, Any] = {}
    days: tuple[dt.date, dt.date] | None
    event_scope: str | None = None
    if ids is not None and heads is not None:
        ids = [i for i in ids if int(i) in heads]
        if not ids:
            return 0, set()
        listed = ", ".join(str(int(i)) for i in ids)
        scope, column_scope = f"d.id IN ({listed})", f"demand_id IN ({listed})"
        plain_scope = f"id IN ({listed})"
        event_scope = column_scope
        if connection.vendor == "postgresql":
            # The partition key's values: PostgreSQL prunes the months none of them falls in (the
            # events from the first creation on, facts.EVENT_SLACK).
            created = sorted({heads[int(i)][0] for i in ids})
            params.update(created=created, events_from=created[0] - EVENT_SLACK)
            scope += " AND d.created_at = ANY(CAST(%(created)s AS timestamptz[]))"
            plain_scope += " AND created_at = ANY(CAST(%(created)s AS timestamptz[]))"
            event_scope += " AND at >= %(events_from)s"
        days = _moments_range([m for i in ids for m in heads[int(i)] if m is not None])
        demands = None
    elif ids is not None:
        if not ids:
            return 0, set()
        listed = ", ".join(str(int(i)) for i in ids)
        scope, column_scope = f"d.id IN ({listed})", f"demand_id IN ({listed})"
        plain_scope = f"id IN ({listed})"
        demands = Demand.objects.filter(pk__in=list(ids))
    elif id_range is not None:
        lo, hi = int(id_range[0]), int(id_range[1])
        scope, column_scope = f"d.id BETWEEN {lo} AND {hi}", f"demand_id BETWEEN {lo} AND {hi}"
        plain_scope = f"id BETWEEN {lo} AND {hi}"
        demands = Demand.objects.filter(pk__gte=lo, pk__lte=hi)
    else:  # pragma: no cover - a caller's mistake
        raise ValueError("upsert_facts needs ids or id_range")
    if demands is not None:
        days = _day_range(demands)
    if days is None:
        return 0, set()
    d = _Dialect(connection.vendor)
    table = _q(DemandFacts._meta.db_table)
    columns = ", ".join(_q(col) for col in FACT_COLUMNS)
    differs = " OR ".join(
        f"{table}.{_q(col)} {'IS DISTINCT FROM' if d.pg else 'IS NOT'} excluded.{_q(col)}" for col in FACT_COLUMNS[1:]
    )
    sets = ", ".join(f"{_q(col)} = excluded.{_q(col)}" for col in FACT_COLUMNS[1:])
    sql = (
        f"WITH {_calendar_sql(*days, d.pg)}, {_owners_sql(d, plain_scope)} "
        f"INSERT INTO {table} ({columns}) {_select_sql(d, scope, event_scope or column_scope, column_scope)} "
        f"ON CONFLICT ({_q('demand_id')}) DO UPDATE SET {sets} WHERE {differs}"
        + (f" RETURNING {_q('demand_id')}" if returning else "")
    )
    now_value = now if d.pg else connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        if d.pg:
            # PostgreSQL's JIT compiled this statement's ~540 expressions for longer than it then ran:
            # 200,000 demands took 33 s with it and 17 s without (1 M database, same load). Off for the
            # rest of the transaction (set_config's `true`); the regroup after it measured the same.
            cursor.execute("SELECT set_config('jit', 'off', true)")
        cursor.execute(sql, {"now": now_value, **params})
        written = {int(row[0]) for row in cursor.fetchall()} if returning else set()
    return (len(written) if returning or demands is None else int(demands.count())), written
