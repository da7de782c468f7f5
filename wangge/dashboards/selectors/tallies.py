"""Measures and tallies of a subject over a period: rollups for the days the worker has rolled up,
the other days (today, and any past day without rollups yet) computed live from the demands (the
stored facts of demands unchanged since the worker's last refresh, the others computed now), once
per page inside `one_reading()`.

One reading path, so the figures are right before the worker's first pass (a fresh database, or
just after a migration that emptied the rollups to rebuild them) and the rollups only make them
cheaper. A past day counts as rolled up when the city's total row of that day exists: every
demand is counted in its city, so a day with demands always has that row once rolled up (a day
without demands costs one empty live query, grouped with its neighbours).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, Q, QuerySet, Sum

from wangge.core import clock
from wangge.dashboards.facts import day_bounds, demand_rows, local_day
from wangge.dashboards.frontier import frontier_of, limits_passed_q
from wangge.dashboards.measures import LEVELS, Tally, demand_facts
from wangge.dashboards.models import (
    COUNTERS,
    FACTS_LEVELS,
    HISTOGRAMS,
    LEVEL_COLUMNS,
    SUMS,
    Cut,
    DemandFacts,
    DemandRollup,
    RollupState,
)
from wangge.dashboards.selectors.subjects import Period, Subject
from wangge.demands.models import Category, Channel, Demand, DemandEvent
from wangge.registry.models import Area, Level

Runs = list[tuple[dt.date, dt.date]]

# The columns a tally reads from a rollup row (values(), not model instances: hundreds per page).
FIELDS = (*COUNTERS, *SUMS, *HISTOGRAMS)

# (the demand, or what the splits read of it; its category id; its department id; its facts)
LiveRow = tuple[Any, int | None, int | None, dict[str, int]]

# --- one reading per page -------------------------------------------------------------------------

_reading: ContextVar[dict[Any, Any] | None] = ContextVar("dashboards_reading", default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    """Inside the block every selector shares one reading: today's demands (the live part) are read and
    their facts computed once, with one `now`, however many figures, series, splits and children a
    page shows; which past days are rolled up is asked once per period. Outside it, each call reads anew.
    """
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def _memo(key: Any, compute: Callable[[], Any]) -> Any:
    cache = _reading.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


class StoredDemand(NamedTuple):
    """What the live splits read of a demand whose facts are read from its DemandFacts row."""

    created_at: dt.datetime
    area_path: str
    channel: str


def _stored_facts(row: tuple[Any, ...]) -> dict[str, int]:
    bits, urges, accept_seconds, resolve_seconds = row
    facts = {name: (bits >> i) & 1 for i, name in enumerate(COUNTERS)}
    facts.update(urges=urges, accept_seconds=accept_seconds, resolve_seconds=resolve_seconds)
    return facts


def _compute_live(demands: QuerySet[Demand]) -> list[LiveRow]:
    """The live rows of `demands`: each demand's facts as the worker stored them (DemandFacts) when
    nothing has changed since, else computed now (changed since the last refresh: a newer event, a
    limit passed since, or not yet refreshed). Exact either way; a busy day costs one read of the
    stored facts and a few demands computed, not every demand computed.
    """
    now = _memo("now", clock.now)
    state = _memo(
        "state",
        lambda: (
            RollupState.objects.filter(name="demands").values_list("refreshed_at", "last_event_id", "pending").first()
        ),
    )
    if state is None or state[0] is None:
        return [(row, cat, dept, demand_facts(row, now)) for row, cat, dept in demand_rows(demands)]
    refreshed_at, last_event, pending = state
    heads = {
        pk: (at, path, channel)
        for pk, at, path, channel in demands.values_list("pk", "created_at", "area_path", "channel")
    }
    if not heads:
        return []
    # The events the last refresh has not read (above its top, and the ids in flight below it: the
    # refresh's own frontier), so a demand's stored facts are used exactly when nothing changed since.
    unseen = frontier_of(pending, "events", last_event).q()
    changed = set(DemandEvent.objects.filter(unseen).values_list("demand_id", flat=True)) & heads.keys()
    changed |= set(demands.filter(limits_passed_q(refreshed_at, now)).values_list("pk", flat=True))
    rows: list[LiveRow] = []
    ids = sorted(heads.keys() - changed)
    found: set[int] = set()
    for i in range(0, len(ids), 5000):
        stored = DemandFacts.objects.filter(demand_id__any=ids[i : i + 5000]).values_list(
            "demand_id", "category_id", "department_id", "bits", "urges", "accept_seconds", "resolve_seconds"
        )
        for pk, cat, dept, *values in stored:
            found.add(pk)
            rows.append((StoredDemand(*heads[pk]), cat, dept, _stored_facts(tuple(values))))
    missing = set(ids) - found  # not refreshed yet: computed now
    todo = sorted(changed | missing)
    for i in range(0, len(todo), 5000):
        # Within `demands` (its days): PostgreSQL reads only those months (the ids as one array parameter).
        chunk = demands.filter(pk__any=todo[i : i + 5000])
        rows.extend((row, cat, dept, demand_facts(row, now)) for row, cat, dept in demand_rows(chunk))
    return rows


def _live_run(demands: QuerySet[Demand]) -> list[LiveRow]:
    try:
        key = ("live", str(demands.query))
    except EmptyResultSet:
        return []
    return _memo(key, lambda: _compute_live(demands))  # type: ignore[no-any-return]


def _live(demands: QuerySet[Demand], runs: Runs) -> Iterator[LiveRow]:
    """(row, category id, department id, facts) of each of `demands` received on the days of `runs`.

    Read run by run, each once per reading: today's run is shared by every period that ends today.
    """
    for run in runs:
        yield from _live_run(demands & live_demands([run]))


# --- figures ----------------------------------------------------------------------------------


def _split(period: Period) -> tuple[Period | None, Runs]:
    """The past part of a period (read from rollups) and the runs of days computed live (once per reading)."""
    return _memo(("split", period.start, period.end, clock.today_local()), lambda: _split_now(period))  # type: ignore[no-any-return]


def _split_now(period: Period) -> tuple[Period | None, Runs]:
    today = clock.today_local()
    last = min(period.end, today - dt.timedelta(days=1))
    past = Period(period.start, last) if last >= period.start else None
    live: list[dt.date] = []
    if past is not None:
        rolled = set(
            DemandRollup.objects.filter(level=Level.CITY, cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end)
            .values_list("day", flat=True)
            .distinct()
        )
        live = [d for d in (past.start + dt.timedelta(days=i) for i in range(past.days)) if d not in rolled]
    if period.contains(today):
        live.append(today)
    runs: Runs = []
    for day in live:
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return past, runs


def live_demands(runs: Runs) -> QuerySet[Demand]:
    """The demands received on the days of `runs` (none when there is no run)."""
    cond = Q(pk__in=[])
    for first, last in runs:
        cond |= Q(created_at__gte=day_bounds(first)[0], created_at__lt=day_bounds(last)[1])
    return Demand.objects.filter(cond)


def fact_rows(
    *, level: str, ids: list[int], start: dt.date, end: dt.date, by_day: bool = False, hists: bool = True
) -> list[dict[str, Any]]:
    """The rollup rows (TOTAL cut) of owners of a level kept only as facts (`models.FACTS_LEVELS`), as
    `DemandRollup.values()` would give them: grouped from their `DemandFacts` by owner (and day), the
    counters unpacked from the bits, the histograms from the buckets. `area_id` names the owner."""
    column = LEVEL_COLUMNS[level]
    keys = [column, "day"] if by_day else [column]
    counters = {name: Sum(F("bits").bitrightshift(i).bitand(1)) for i, name in enumerate(COUNTERS)}
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        facts = DemandFacts.objects.filter(**{f"{column}__in": ids[i : i + 500]}, day__gte=start, day__lte=end)
        for row in facts.values(*keys).annotate(**counters, **{name: Sum(name) for name in SUMS}).order_by():
            rows[tuple(row[k] for k in keys)] = {**row, "area_id": row[column], "accept_hist": {}, "resolve_hist": {}}
        if not hists:
            continue
        for hist, bucket in (("accept_hist", "accept_bucket"), ("resolve_hist", "resolve_bucket")):
            counted = facts.filter(**{f"{bucket}__isnull": False}).values(*keys, bucket).annotate(n=Count("pk"))
            for row in counted.order_by():
                rows[tuple(row[k] for k in keys)][hist][str(row[bucket])] = row["n"]
    return list(rows.values())


def _past_rows(subject: Subject, past: Period, *, by_day: bool = False) -> Iterable[Any]:
    """The subject's rollup rows (TOTAL cut) of the past days: stored, or grouped from its facts."""
    if subject.area is not None and subject.area.level in FACTS_LEVELS:
        return fact_rows(level=subject.area.level, ids=[subject.area.pk], start=past.start, end=past.end, by_day=by_day)
    rows = subject.rollups().filter(cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end)
    return rows.values("day", *FIELDS) if by_day else rows.values(*FIELDS)


def figures(*, subject: Subject, period: Period) -> Tally:
    """The subject's tally over a period (rollups, plus the days not rolled up computed live)."""
    tally = Tally()
    past, runs = _split(period)
    if past is not None:
        for row in _past_rows(subject, past):
            tally.add_row(row)
    if runs:
        for _row, _cat, _dept, facts in _live(subject.demands(), runs):
            tally.add_facts(facts)
    return tally


def daily(*, subject: Subject, period: Period) -> list[tuple[dt.date, Tally]]:
    """One tally per day of the period (days without demands included, as zeros)."""
    by_day: dict[dt.date, Tally] = defaultdict(Tally)
    past, runs = _split(period)
    if past is not None:
        for row in _past_rows(subject, past, by_day=True):
            by_day[row["day"]].add_row(row)
    if runs:
        for demand, _cat, _dept, facts in _live(subject.demands(), runs):
            by_day[local_day(demand.created_at)].add_facts(facts)
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    return [(d, by_day.get(d) or Tally()) for d in days]


def weekly(series: list[tuple[dt.date, Tally]]) -> list[tuple[dt.date, Tally]]:
    """The daily series added up by ISO week (each week named by its Monday)."""
    weeks: dict[dt.date, Tally] = {}
    for day, tally in series:
        monday = day - dt.timedelta(days=day.weekday())
        weeks.setdefault(monday, Tally()).add(tally)
    return sorted(weeks.items())


def _tallies_by(
    *, subject: Subject, period: Period, cut: str, column: str, of_row: Callable[[Any, Any], Any]
) -> dict[Any, Tally]:
    """The period's tallies split by one rollup cut (`column` of its rows), or live for the same split below
    the town, where there are no cut rollups (services.CATEGORY_LEVELS: their demands are few);
    `of_row(row, category_id)` names the split of one live demand."""
    tallies: dict[Any, Tally] = defaultdict(Tally)
    past, runs = _split(period)
    live_qs, live_runs = None, runs
    if subject.level in ("village", "branch", "grid"):
        live_qs, live_runs = subject.demands(), [(period.start, period.end)]
    else:
        if past is not None:
            rows = subject.rollups().filter(cut=cut, day__gte=past.start, day__lte=past.end)
            for row in rows.values(column, *FIELDS):
                tallies[row[column]].add_row(row)
        if runs:
            live_qs = subject.demands()
    if live_qs is not None:
        for row, category_id, _dept, facts in _live(live_qs, live_runs):
            tallies[of_row(row, category_id)].add_facts(facts)
    return tallies


def categories(*, subject: Subject, period: Period) -> list[dict[str, Any]]:
    """Received, resolved and rates per category, most received first."""
    tallies = _tallies_by(
        subject=subject, period=period, cut=Cut.CATEGORY, column="category_id", of_row=lambda _row, cat: cat
    )
    names = {c.pk: str(c) for c in Category.objects.select_related("parent").filter(pk__in=[k for k in tallies if k])}
    result = []
    for category_id, tally in tallies.items():
        m = tally.measures()
        result.append({"category_id": category_id, "name": names.get(category_id or 0, "未分类"), **m})
    return sorted(result, key=lambda r: (-r["received"], r["name"]))


def channels(*, subject: Subject, period: Period) -> list[dict[str, Any]]:
    """Received and the residents' answers per channel (hotline, WeChat, visit …): 解决率, 满意率 and the
    share answered, so demands nobody filed on the resident page are seen to be asked too (回访)."""
    tallies = _tallies_by(
        subject=subject, period=period, cut=Cut.CHANNEL, column="channel", of_row=lambda row, _cat: row.channel
    )
    labels = dict(Channel.choices)
    result = [
        {"channel": channel, "name": str(labels.get(channel, channel)), **tally.measures()}
        for channel, tally in tallies.items()
    ]
    return sorted(result, key=lambda r: (-r["received"], r["name"]))


def children(*, subject: Subject, period: Period) -> list[dict[str, Any]]:
    """Each child area of the subject with its measures (drill-down), in path order."""
    if subject.area is None or subject.area.level == Level.GRID:
        return []
    kids = list(Area.objects.filter(parent=subject.area).order_by("path"))
    tallies = area_tallies(areas=kids, period=period)
    return [{"area": a, **tallies.get(a.pk, Tally()).measures()} for a in kids]


def area_tallies(*, areas: list[Area], period: Period) -> dict[int, Tally]:
    """Counters of several areas at once (rollups summed by area, the live days grouped by ancestor).

    Without histograms: lists and rankings show rates, not percentiles.
    """
    result: dict[int, Tally] = defaultdict(Tally)
    if not areas:
        return result
    past, runs = _split(period)
    ids = [a.pk for a in areas if a.level not in FACTS_LEVELS]
    if past is not None:
        for level in {a.level for a in areas} & FACTS_LEVELS:
            kept = [a.pk for a in areas if a.level == level]
            for row in fact_rows(level=level, ids=kept, start=past.start, end=past.end, hists=False):
                result[row["area_id"]].add_row(row)
        # The database adds the counters up per area (one grouped query; no histograms needed here).
        sums = {name: Sum(name) for name in (*COUNTERS, *SUMS)}
        for i in range(0, len(ids), 500):
            rows = (
                DemandRollup.objects.filter(
                    area_id__in=ids[i : i + 500], cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end
                )
                .values("area_id")
                .annotate(**sums)
            )
            for row in rows:
                result[row["area_id"]].add_row(row)
    if runs:
        wanted = {a.path: a.pk for a in areas}
        depths = sorted({path_depth(a.path) for a in areas})
        common = _common_prefix(list(wanted))
        # Built as Subject.demands(): a page's children share its own live reading.
        qs = Demand.objects.filter(area_path__startswith=common) if common else Demand.objects.all()
        for demand, _cat, _dept, facts in _live(qs, runs):
            for depth in depths:
                pk = wanted.get(prefix_at(demand.area_path, depth))
                if pk is not None:
                    result[pk].add_facts(facts)
    return result


def path_depth(path: str) -> int:
    return path.rstrip("/").count("/") + 1


def prefix_at(path: str, depth: int) -> str:
    """The path of the ancestor at `depth` segments ("" when the path is shallower)."""
    parts = path.split("/")
    if len(parts) - 1 < depth:
        return ""
    return "/".join(parts[:depth]) + "/"


def _common_prefix(paths: list[str]) -> str:
    if not paths:
        return ""
    first, last = min(paths), max(paths)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    prefix = first[:i]
    return prefix[: prefix.rfind("/") + 1]


def climb(tally: Tally) -> list[dict[str, Any]]:
    """How far demands climb: how many reached each level at most, and how many went to a department."""
    received = tally.counts["received"] or 0
    rows = []
    for level in LEVELS[::-1]:
        n = tally.counts[f"climb_{level}"]
        rows.append({"level": level, "count": n, "share": n / received if received else None})
    n = tally.counts["climb_department"]
    rows.append({"level": "department", "count": n, "share": n / received if received else None})
    return rows


def rollup_state() -> RollupState | None:
    return RollupState.objects.filter(name="demands").first()
