"""The only writers of the dashboards app: rollups, export jobs, the log of unmasked personal data.

Dashboards read demands and never change them, with one exception that goes through the demand
services themselves: the console's batch dispatch, one `demand_dispatch` per demand, each in its
own transaction, so that one conflict never undoes the others.

Rollups (`rollup_refresh`) are recomputed whole, one local day at a time: every demand received
that day is read again, its facts computed by `measures.demand_facts`, and the day's rows deleted
and written anew in one transaction that first locks the `RollupState` row. Running it twice, or
on two workers at once, gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.replica import primary_position, use_replica
from wangge.dashboards import exports
from wangge.dashboards.facts import AreaIndex, day_bounds, demand_rows, visit_models
from wangge.dashboards.measures import OPEN, WAITING, Tally, demand_facts
from wangge.dashboards.models import (
    COUNTERS,
    SUMS,
    ActivityRollup,
    Cut,
    DemandRollup,
    ExportJob,
    ExportKind,
    ExportState,
    PiiAccessLog,
    RollupLevel,
    RollupState,
)
from wangge.demands.models import Demand, DemandEvent
from wangge.demands.selectors import DemandFilter
from wangge.registry.models import Department

log = logging.getLogger("wangge.dashboards")

# Levels whose rollups are also cut by category (a village's, branch's or grid's demands are few
# enough to read live; cutting them by 40 categories would multiply the rows for little gain).
CATEGORY_LEVELS = frozenset({"city", "town", "department"})
# Levels that keep visit and opinion counts (the public page and the reports read these).
ACTIVITY_LEVELS = ("city", "town", "village")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


# --- rollups -----------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    """What one refresh did."""

    days: int = 0
    demands: int = 0
    rows: int = 0
    activity_days: int = 0
    seconds: float = 0.0
    days_list: list[dt.date] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"rollups: {self.days} days, {self.demands} demands, {self.rows} rows, "
            f"{self.activity_days} activity days; {self.seconds * 1000:.0f} ms"
        )


def _affected_days(since: dt.datetime, now: dt.datetime, after_event: int | None) -> set[dt.date]:
    """Local days whose demands changed (since `since`, or after event `after_event`), or whose limits passed."""
    days: set[dt.date] = set()

    def add(qs: Any) -> None:
        days.update(
            d
            for d in qs.annotate(day=TruncDate("created_at", tzinfo=clock.local_tz()))
            .values_list("day", flat=True)
            .distinct()
        )

    if after_event is None:
        add(Demand.objects.filter(updated_at__gte=since))
    else:
        # Every change of a demand appends an event: new events name the demands that changed.
        changed = sorted(set(DemandEvent.objects.filter(pk__gt=after_event).values_list("demand_id", flat=True)))
        for i in range(0, len(changed), 5000):
            add(Demand.objects.filter(pk__in=changed[i : i + 5000]))
    # Time alone turns a demand overdue or late for its case deadline (no row changes then): those
    # days are refreshed too, read through the partial indexes over open demands.
    for states, due in ((WAITING, "accept_due_at"), (OPEN, "resolve_due_at"), (OPEN, "case_due_at")):
        add(Demand.objects.filter(state__in=states, **{f"{due}__gte": since, f"{due}__lt": now}))
    return days


def _lock(name: str) -> RollupState:
    """Take the state row of a rollup inside the current transaction (serialises refreshes)."""
    RollupState.objects.get_or_create(name=name)
    return RollupState.objects.select_for_update().get(name=name)


def _day_tallies(
    day: dt.date, now: dt.datetime, index: AreaIndex, departments: dict[int, str]
) -> tuple[dict[tuple[Any, ...], Tally], int]:
    start, end = day_bounds(day)
    tallies: dict[tuple[Any, ...], Tally] = defaultdict(Tally)
    count = 0
    for row, category_id, dept_id in demand_rows(Demand.objects.filter(created_at__gte=start, created_at__lt=end)):
        count += 1
        facts = demand_facts(row, now)
        for level, area_id, path in index.ancestors(row.area_path):
            tallies[(level, area_id, path, None, Cut.TOTAL, None, "")].add_facts(facts)
            if level in CATEGORY_LEVELS:
                tallies[(level, area_id, path, None, Cut.CATEGORY, category_id, "")].add_facts(facts)
                tallies[(level, area_id, path, None, Cut.CHANNEL, None, row.channel)].add_facts(facts)
        if dept_id is not None:
            path = departments.get(dept_id, "")
            tallies[(RollupLevel.DEPARTMENT, None, path, dept_id, Cut.TOTAL, None, "")].add_facts(facts)
            tallies[(RollupLevel.DEPARTMENT, None, path, dept_id, Cut.CATEGORY, category_id, "")].add_facts(facts)
            tallies[(RollupLevel.DEPARTMENT, None, path, dept_id, Cut.CHANNEL, None, row.channel)].add_facts(facts)
    return tallies, count


ROLLUP_COLUMNS = (
    "day",
    "level",
    "area_id",
    "area_path",
    "department_id",
    "cut",
    "category_id",
    "channel",
    "key",
    *COUNTERS,
    *SUMS,
    "accept_hist",
    "resolve_hist",
    "refreshed_at",
)


def _rollup_values(day: dt.date, tallies: dict[tuple[Any, ...], Tally], now: dt.datetime) -> list[tuple[Any, ...]]:
    """One row of values per tally, in ROLLUP_COLUMNS order, adapted for the database."""
    ops = connection.ops
    json_field = DemandRollup._meta.get_field("accept_hist")
    day_value, now_value = ops.adapt_datefield_value(day), ops.adapt_datetimefield_value(now)
    rows = []
    for (level, area_id, path, dept_id, cut, category_id, channel), tally in tallies.items():
        owner = f"a{area_id}" if area_id is not None else f"d{dept_id}"
        # Unique per day: total "t:0", a category "c:<id>", a channel "n:<channel>".
        key = f"{owner}:n:{channel}" if cut == Cut.CHANNEL else f"{owner}:{cut[0]}:{category_id or 0}"
        counts = tally.counts
        rows.append(
            (
                day_value,
                level,
                area_id,
                path,
                dept_id,
                cut,
                category_id,
                channel,
                key,
                *(counts[name] for name in COUNTERS),
                *(counts[name] for name in SUMS),
                json_field.get_db_prep_save(tally.accept_hist, connection),
                json_field.get_db_prep_save(tally.resolve_hist, connection),
                now_value,
            )
        )
    return rows


def _insert_rollups(rows: list[tuple[Any, ...]]) -> None:
    # Plain executemany: a day of a county is tens of thousands of rows, and building each one
    # through the ORM costs ten times the insert itself.
    table = connection.ops.quote_name(DemandRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in ROLLUP_COLUMNS)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(ROLLUP_COLUMNS))})"
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[i : i + 5000])


def _refresh_day(day: dt.date, index: AreaIndex, departments: dict[int, str]) -> tuple[int, int]:
    with transaction.atomic():
        _lock("demands")
        # Read after taking the lock: what is written is never older than what another worker wrote.
        now = clock.now()
        tallies, count = _day_tallies(day, now, index, departments)
        DemandRollup.objects.filter(day=day).delete()  # no relations point here: one DELETE
        rows = _rollup_values(day, tallies, now)
        _insert_rollups(rows)
    return count, len(rows)


def rollup_refresh(
    *,
    since: dt.datetime,
    days: Iterable[dt.date] = (),
    after_event: int | None = None,
    after_visit: int | None = None,
) -> RefreshReport:
    """Recompute the rollups of every local day touched since `since` (and of `days`); idempotent.

    What changed is found by `updated_at >= since`, or, when given, by events and visits with an
    id above `after_event` / `after_visit` (the worker's way: a primary-key range). Each day is
    its own transaction (SQLite keeps its single write lock only briefly), so this service is
    deliberately not atomic as a whole: a day is either the old rows or the new ones.
    """
    started = time.perf_counter()
    now = clock.now()
    wanted = sorted(_affected_days(since, now, after_event) | set(days))
    report = RefreshReport(days=len(wanted), days_list=wanted)
    if wanted:
        index = AreaIndex()
        departments = dict(Department.objects.values_list("id", "area_path"))
        for day in wanted:
            count, rows = _refresh_day(day, index, departments)
            report.demands += count
            report.rows += rows
    report.activity_days = activity_refresh(since=since, after_visit=after_visit)
    report.seconds = time.perf_counter() - started
    return report


def _top_ids() -> tuple[int, int]:
    models = visit_models()
    top_event = DemandEvent.objects.aggregate(top=Max("pk"))["top"] or 0
    top_visit = (models[0].objects.aggregate(top=Max("pk"))["top"] or 0) if models else 0
    return int(top_event), int(top_visit)


def rollup_refresh_recent() -> RefreshReport:
    """The worker hook: refresh what changed since the last refresh began (everything, the first time).

    Events (and visits) numbered from a margin below the last refresh's highest id are read again:
    an id handed out but not yet committed then is still caught (DASHBOARD_ROLLUP_ID_MARGIN).
    """
    state, _created = RollupState.objects.get_or_create(name="demands")
    began = clock.now()
    top_event, top_visit = _top_ids()
    if state.refreshed_at is None:
        report = rollup_refresh(since=EPOCH)
    else:
        overlap = dt.timedelta(seconds=int(getattr(settings, "DASHBOARD_ROLLUP_OVERLAP_SECONDS", 600)))
        margin = int(getattr(settings, "DASHBOARD_ROLLUP_ID_MARGIN", 1000))
        report = rollup_refresh(
            since=state.refreshed_at - overlap,
            after_event=max(0, state.last_event_id - margin),
            after_visit=max(0, state.last_visit_id - margin),
        )
    RollupState.objects.filter(pk=state.pk).update(
        refreshed_at=began,
        last_event_id=top_event,
        last_visit_id=top_visit,
        finished_at=clock.now(),
        days=report.days,
        seconds=report.seconds,
    )
    return report


def rollup_rebuild() -> RefreshReport:
    """Recompute every day that has demands (after a change of definitions, or in the bench)."""
    began = clock.now()
    top_event, top_visit = _top_ids()
    report = rollup_refresh(since=EPOCH)
    RollupState.objects.update_or_create(
        name="demands",
        defaults={
            "refreshed_at": began,
            "last_event_id": top_event,
            "last_visit_id": top_visit,
            "finished_at": clock.now(),
            "days": report.days,
            "seconds": report.seconds,
        },
    )
    return report


# --- visits and opinions --------------------------------------------------------------------


def activity_refresh(*, since: dt.datetime, after_visit: int | None = None) -> int:
    """Recompute visit and opinion counts of the days touched by visits logged since `since` (or after an id)."""
    models = visit_models()
    if models is None:
        return 0
    visit, opinion = models
    logged = (
        visit.objects.filter(pk__gt=after_visit)
        if after_visit is not None
        else visit.objects.filter(created_at__gte=since)
    )
    days = set(
        logged.annotate(day=TruncDate("visited_at", tzinfo=clock.local_tz())).values_list("day", flat=True).distinct()
    )
    days |= set(
        opinion.objects.filter(visit__in=logged.values("pk"))
        .annotate(day=TruncDate("created_at", tzinfo=clock.local_tz()))
        .values_list("day", flat=True)
        .distinct()
    )
    if not days:
        return 0
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
    return len(days)


# --- personal data ----------------------------------------------------------------------------


@transaction.atomic
def pii_access_log(
    *, user: Any, what: str, why: str, demand: Demand | None = None, export: ExportJob | None = None, values: int = 1
) -> PiiAccessLog:
    """Record one view or export of unmasked personal data (who, when, what, why)."""
    return PiiAccessLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        at=clock.now(),
        what=what[:300],
        why=why,
        demand=demand,
        export=export,
        values=values,
    )


def may_unmask_exports(user: Any) -> bool:
    """Only city administrators may ask for every phone unmasked in an export."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or user.role == Role.CITY_ADMIN))


# --- export jobs -------------------------------------------------------------------------------

# An export saves the demand filters' own parameters (demands.selectors.DemandFilter), as strings.
FILTER_KEYS = DemandFilter.PARAMS


@transaction.atomic
def export_job_create(
    *, user: Any, kind: str, filters: dict[str, Any] | None = None, unmasked: bool = False, reason: str = ""
) -> ExportJob:
    """Queue an export for the worker; unmasked exports only for city administrators, with a reason (logged)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("sign in first"))
    if kind not in ExportKind.values:
        raise ValidationFailed(_("unknown export kind: %(kind)s"), params={"kind": kind}, field="kind")
    if kind == ExportKind.VISITS and visit_models() is None:
        raise ValidationFailed(_("the visit log cannot be exported yet"), field="kind")
    reason = (reason or "").strip()
    if unmasked:
        if not may_unmask_exports(user):
            raise PermissionDenied(_("only city administrators may export unmasked personal data"), field="unmasked")
        if len(reason) < 4:
            raise ValidationFailed(_("say why the unmasked data is needed (at least 4 characters)"), field="reason")
    clean = {k: str(v) for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in (None, "")}
    job = ExportJob.objects.create(
        user=user, kind=kind, filters=clean, unmasked=unmasked, reason=reason[:1000], created_at=clock.now()
    )
    if unmasked:
        pii_access_log(
            user=user, what=f"未脱敏导出 #{job.pk}（{job.get_kind_display()}）", why=reason, export=job, values=0
        )
    return job


def _claim(job_id: int, worker_id: str) -> bool:
    return bool(
        ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
            state=ExportState.RUNNING, started_at=clock.now(), worker=worker_id[:100]
        )
    )


def export_jobs_run(*, limit: int = 2, worker_id: str = "") -> int:
    """The worker hook: claim queued exports (a conditional UPDATE: one worker each) and write them."""
    stale = clock.now() - dt.timedelta(hours=1)
    # A job left running for an hour lost its worker: let it be tried again.
    ExportJob.objects.filter(state=ExportState.RUNNING, started_at__lt=stale).update(state=ExportState.QUEUED)
    done = 0
    for job_id in list(
        ExportJob.objects.filter(state=ExportState.QUEUED)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    ):
        if not _claim(job_id, worker_id):
            continue  # another worker took it
        export_job_run(job=ExportJob.objects.select_related("user").get(pk=job_id))
        done += 1
    return done


def export_job_run(*, job: ExportJob) -> ExportJob:
    """Write one claimed job's file; progress is saved as it goes, failure is recorded, never raised."""
    try:
        # Read on the replica once it has every write made before the job was claimed (docs/scaling.md).
        with use_replica(after=primary_position()):
            written = exports.write_export(job, progress=lambda done, total: _progress(job.pk, done, total))
        if written.unmasked:
            # The file carries personal data in clear: the log says who took how much and why.
            pii_access_log(user=job.user, what=written.what, why=written.why, export=job, values=written.unmasked)
    except WanggeError as exc:
        _finish(job.pk, state=ExportState.FAILED, error=f"{exc.zh} / {exc.en}")
    except Exception as exc:  # the worker must go on; the person sees that it failed and why
        log.exception("export %s failed", job.pk)
        _finish(job.pk, state=ExportState.FAILED, error=str(exc)[:1000])
    else:
        _finish(job.pk, state=ExportState.DONE, file=written.file)
    job.refresh_from_db()
    return job


def _progress(job_id: int, done: int, total: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(done_rows=done, total=total)


def _finish(job_id: int, *, state: str, file: str = "", error: str = "") -> None:
    ExportJob.objects.filter(pk=job_id, state=ExportState.RUNNING).update(
        state=state, file=file, error=error, finished_at=clock.now()
    )


def export_path(job: ExportJob) -> Path:
    """Where a finished job's file lies (refuses anything outside MEDIA_ROOT/exports)."""
    root = (Path(settings.MEDIA_ROOT) / getattr(settings, "DASHBOARD_EXPORT_DIR", "exports")).resolve()
    path = (Path(settings.MEDIA_ROOT) / job.file).resolve()
    if not job.file or root not in path.parents:
        raise NotFound(_("export file not found"))
    return path


# --- console: batch dispatch ----------------------------------------------------------------


@dataclass
class BatchResult:
    """The outcome for one demand of a batch."""

    demand_id: int
    code: str
    ok: bool
    message: str = ""


def demands_batch_dispatch(
    *, actor: Any, items: list[tuple[int, int | None]], department: Department | None, note: str = ""
) -> list[BatchResult]:
    """Dispatch several demands to one department: one `demand_dispatch` each, in its own transaction.

    Not atomic as a whole on purpose: a demand someone else moved meanwhile is reported as a
    conflict while the others are dispatched. Demands outside the actor's scope are "not found".
    """
    from wangge.demands import selectors as demand_selectors
    from wangge.demands import services as demand_services

    if not items:
        raise ValidationFailed(_("select at least one demand"), field="demands")
    if department is None:
        raise ValidationFailed(_("choose a department"), field="department")
    if len(items) > 200:
        raise ValidationFailed(_("at most 200 demands at once"), field="demands")
    ids = [pk for pk, _v in items]
    found = {d.pk: d for d in demand_selectors.demand_list(user=actor).filter(pk__in=ids)}
    results = []
    for pk, version in items:
        demand = found.get(pk)
        if demand is None:
            results.append(BatchResult(pk, "", False, str(NotFound(_("demand not found")))))
            continue
        try:
            demand_services.demand_dispatch(
                demand=demand, actor=actor, department=department, note=note, version=version
            )
        except WanggeError as exc:
            results.append(BatchResult(pk, demand.code, False, f"{exc.zh} / {exc.en}"))
        else:
            results.append(BatchResult(pk, demand.code, True))
    return results
