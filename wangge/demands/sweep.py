"""The worker's pass over demands (a WANGGE_WORKER_HOOKS entry): suspensions that end (挂起 until a date), time
limits to accept and resolve, silent closing, and the reminder to verifiers (核查) of demands waiting past
DEMAND_VERIFY_HOURS. A suspended demand is not open: it is never escalated or warned.

The messages these moves enqueue are delivered by the outbox's own pass (notifications.services.outbox_pass).

Safe with several workers at once: every move is a conditional UPDATE (a demand that another
worker already moved no longer matches and gives a `Conflict`, counted and skipped). On PostgreSQL
each batch is also selected `FOR UPDATE SKIP LOCKED` inside one transaction, so two workers take
disjoint batches instead of queueing behind each other's row locks. On SQLite each move is its own
short transaction, so the single write lock is never held for a whole batch.

Each query repeats its partial index's condition word for word so that SQLite and PostgreSQL can use
it. A demand leaves the index of a line once it has crossed it: the red flag reads open demands not yet
red (`demand_open_unred_due`), the yellow flag those not flagged at all (`demand_open_yellow_due`), the
automatic escalation waiting demands held by a level that can still climb (`demand_escalation_due`). So
a pass reads only the demands that crossed a line since the last pass, never the thousands already red
or stuck at the top, and a pass with nothing due reads empty index ranges.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from wangge.core import clock
from wangge.core.errors import Conflict, WanggeError
from wangge.demands import services
from wangge.demands.models import (
    OPEN_STATES,
    WAITING_STATES,
    Demand,
    DemandEvent,
    DemandRequest,
    RequestKind,
    RequestState,
    State,
    WarningLevel,
)
from wangge.demands.services import verification
from wangge.demands.transitions import CAN_ESCALATE
from wangge.holidays.workdays import add_working_hours

log = logging.getLogger("wangge.worker")


@dataclass
class SweepReport:
    """What one pass did."""

    resumed: int = 0
    escalated: int = 0
    yellow: int = 0
    red: int = 0
    closed: int = 0
    verify_reminded: int = 0
    conflicts: int = 0
    errors: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"resumed {self.resumed}, escalated {self.escalated}, yellow {self.yellow}, red {self.red}, "
            f"closed {self.closed}, verify reminders {self.verify_reminded}, "
            f"conflicts {self.conflicts}, errors {self.errors}; {self.seconds * 1000:.1f} ms"
        )


# The partial indexes' condition, written out literally: SQLite uses a partial index only when the
# query repeats its WHERE term word for word, and a bound parameter (`state IN (?, ?)`) never does.
OPEN_SQL = "state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"


WAITING_SQL = "state IN (" + ", ".join(f"'{s}'" for s in WAITING_STATES) + ")"
ESCALATING_SQL = "holder_level IN (" + ", ".join(f"'{s}'" for s in sorted(CAN_ESCALATE)) + ")"
NOT_RED = (WarningLevel.NONE, WarningLevel.YELLOW)
NOT_RED_SQL = "warning IN (" + ", ".join(f"'{s}'" for s in NOT_RED) + ")"


def literally(qs: QuerySet[Demand], *where: str) -> QuerySet[Demand]:
    """Repeat a partial index's condition word for word, on SQLite only: PostgreSQL proves the index
    applies from the ORM's own terms, and counting the terms twice would skew its estimates (it then
    estimated a handful of rows and left the index unused)."""
    return qs.extra(where=list(where)) if connection.vendor == "sqlite" else qs


def _open() -> QuerySet[Demand]:
    return literally(Demand.objects.filter(state__in=OPEN_STATES), OPEN_SQL)


def due_to_escalate(now: dt.datetime) -> QuerySet[Demand]:
    """Waiting for acceptance past the limit, held by a level that can still climb."""
    qs = Demand.objects.filter(
        state__in=WAITING_STATES,
        accept_due_at__lte=now,
        holder_department__isnull=True,
        holder_level__in=sorted(CAN_ESCALATE),
    )
    return literally(qs, WAITING_SQL, ESCALATING_SQL).order_by("accept_due_at", "id")  # the escalation index


def due_for_red(now: dt.datetime) -> QuerySet[Demand]:
    """Open demands past the limit to resolve and not flagged red yet: those that crossed the line."""
    qs = _open().filter(resolve_due_at__lte=now, warning__in=NOT_RED)
    return literally(qs, NOT_RED_SQL).order_by("resolve_due_at", "id")  # the red index's own condition


def due_for_yellow(now: dt.datetime) -> QuerySet[Demand]:
    qs = _open().filter(warning=WarningLevel.NONE, yellow_at__lte=now, resolve_due_at__gt=now)
    return literally(qs, "warning = 'none'").order_by("yellow_at", "id")  # the yellow index's own condition


def due_to_resume(now: dt.datetime) -> QuerySet[Demand]:
    """Suspended demands whose approved suspension (the one that stopped the clock) names a date that has come."""
    ends = DemandRequest.objects.filter(
        demand=OuterRef("pk"),
        kind=RequestKind.SUSPENSION,
        state=RequestState.APPROVED,
        decided_at__gte=OuterRef("suspended_at"),
        until__lte=now,
    )
    return Demand.objects.filter(state=State.SUSPENDED).filter(Exists(ends)).order_by("suspended_at", "id")


def due_to_close(now: dt.datetime) -> QuerySet[Demand]:
    days = int(getattr(settings, "DEMAND_AUTO_CLOSE_DAYS", 7))
    cutoff = now - dt.timedelta(days=days)
    # A verified demand (核查) counts its days from the verification: the resident was asked to rate only then.
    return (
        Demand.objects.filter(state=State.RESOLVED, resolved_at__lte=cutoff)
        .exclude(verified_at__gt=cutoff)
        .order_by("resolved_at", "id")
    )


def due_for_verify_reminder(now: dt.datetime) -> QuerySet[Demand]:
    """Waiting for a verifier for at least DEMAND_VERIFY_HOURS calendar hours, not yet reminded in this wait.

    Working hours never pass faster than calendar hours, so this is a superset of what is due; the pass
    checks each on the working-hours calendar (`verification.verify_due_at`)."""
    hours = verification.verify_hours()
    reminded = DemandEvent.objects.filter(
        demand=OuterRef("pk"), action=verification.OVERDUE_ACTION, at__gte=OuterRef("resolved_at")
    )
    return (
        Demand.objects.filter(state=State.VERIFYING, resolved_at__lte=now - dt.timedelta(hours=hours))
        .exclude(Exists(reminded))
        .order_by("resolved_at", "id")
    )


def _remind_verifiers(now: dt.datetime, *, batch: int, report: SweepReport) -> int:
    """Remind the verifiers of every demand past its working-hours limit to verify (keyset batches)."""
    done = 0
    after: tuple[Any, int] | None = None
    qs = due_for_verify_reminder(now)
    while True:
        page = qs
        if after is not None:
            page = qs.filter(Q(resolved_at__gt=after[0]) | Q(resolved_at=after[0], pk__gt=after[1]))
        rows = list(page.values_list("resolved_at", "pk")[:batch])
        for resolved_at, pk in rows:
            if resolved_at is not None and add_working_hours(resolved_at, verification.verify_hours()) <= now:
                done += _one(pk, lambda pk: services.demand_verify_remind(demand=pk), report)
        if len(rows) < batch:
            return done
        after = rows[-1]


def _process(qs: QuerySet[Demand], key: str, move: Callable[[int], Any], *, batch: int, report: SweepReport) -> int:
    """Apply `move` to every matching demand, a batch at a time, in (key, id) order; returns how many moved.

    Batches follow the order by keyset (after the last (key, id) seen), so a demand that could not
    be moved is not read again in this pass and the query never grows with what was tried.
    """
    done = 0
    after: tuple[Any, int] | None = None
    postgres = connection.vendor == "postgresql"
    while True:
        page = qs
        if after is not None:
            page = qs.filter(Q(**{f"{key}__gt": after[0]}) | Q(**{key: after[0], "pk__gt": after[1]}))
        if postgres:
            with transaction.atomic():
                rows = list(page.select_for_update(skip_locked=True).values_list(key, "pk")[:batch])
                for _due, pk in rows:
                    done += _one(pk, move, report)
        else:
            rows = list(page.values_list(key, "pk")[:batch])
            for _due, pk in rows:
                done += _one(pk, move, report)
        if len(rows) < batch:
            return done
        after = rows[-1]


def _one(pk: int, move: Callable[[int], Any], report: SweepReport) -> int:
    try:
        with transaction.atomic():
            move(pk)
        return 1
    except Conflict:
        report.conflicts += 1  # another worker (or a person) moved it first
    except WanggeError as exc:
        report.errors += 1
        log.warning("demand %s not moved: %s", pk, exc)
    return 0


def sweep_once(*, batch: int | None = None) -> SweepReport:
    """One pass, the worker's hook (no arguments): (a) suspensions that end resume (their deadlines move
    first), (b) auto-escalate, (c) red then yellow flags, (d) silent closing, (e) reminders to verifiers past
    their limit."""
    started = time.perf_counter()
    batch = batch or int(getattr(settings, "DEMAND_WORKER_BATCH", 500))
    report = SweepReport()
    now = clock.now()
    report.resumed = _process(
        due_to_resume(now),
        "suspended_at",
        lambda pk: services.demand_resume(demand=pk),
        batch=batch,
        report=report,
    )
    report.escalated = _process(
        due_to_escalate(now),
        "accept_due_at",
        lambda pk: services.demand_auto_escalate(demand=pk),
        batch=batch,
        report=report,
    )
    report.red = _process(
        due_for_red(now),
        "resolve_due_at",
        lambda pk: services.demand_warn(demand=pk, level=WarningLevel.RED),
        batch=batch,
        report=report,
    )
    report.yellow = _process(
        due_for_yellow(now),
        "yellow_at",
        lambda pk: services.demand_warn(demand=pk, level=WarningLevel.YELLOW),
        batch=batch,
        report=report,
    )
    report.closed = _process(
        due_to_close(now),
        "resolved_at",
        lambda pk: services.demand_close_silent(demand=pk),
        batch=batch,
        report=report,
    )
    report.verify_reminded = _remind_verifiers(now, batch=batch, report=report)
    report.seconds = time.perf_counter() - started
    return report
