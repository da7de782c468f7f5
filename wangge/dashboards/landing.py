"""Reads of the staff landing page (core:home): the queue of what the user holds now.

Each staff role lands on its own queue: what waits to be accepted, what is late, what falls due
soon, what is urgent and what was escalated to it, counted in one query, and the few most pressing
demands in a second. "Mine" is `wangge.demands.permissions.held_q` (the one rule of who holds what),
and each count means exactly what the console shows for the same filter parameters
(`wangge.demands.selectors.DemandFilter`), so a count and the list it links to never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, DateTimeField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.demands import assist_selectors
from wangge.demands import permissions as demand_permissions
from wangge.demands.models import PAUSED_STATES, UNFINISHED_STATES, WAITING_STATES, Demand, Urgency
from wangge.demands.request_selectors import count_to_decide
from wangge.demands.selectors import escalated_q, late_q

DUE_SOON_HOURS = 4
TOP_ITEMS = 5


@dataclass(frozen=True)
class QueueCount:
    """One count of the landing page and the console parameters that list the same demands."""

    key: str
    count: int
    params: dict[str, str]


@dataclass
class Landing:
    """What the landing page shows: the counts (in display order) and the most pressing demands."""

    holds: bool  # False for roles that never hold a demand (auditors): no queue at all
    counts: list[QueueCount] = field(default_factory=list)
    top: Sequence[Demand] = field(default_factory=list)  # each with `due`, its next time limit
    now: dt.datetime | None = None
    to_decide: int = 0  # 待审批: extensions and suspensions asked of the user's level (demands.request_selectors)
    assist_tasks: int = 0  # 协办任务: department staff's co-handling tasks awaiting their reply


def holds_demands(user: Any) -> bool:
    """Whether the user is a role that may hold demands (auditors read only; grid leaders use the workbench)."""
    return bool(demand_permissions.is_staff(user) and user.role != Role.AUDITOR)


def held_open(user: Any) -> QuerySet[Demand]:
    """Unfinished demands the user holds now (their level or department), the base of every count; a suspended
    one (挂起) is counted as open and never as late (`late_q` covers running clocks only)."""
    return Demand.objects.filter(demand_permissions.held_q(user), state__in=UNFINISHED_STATES)


def next_due() -> Any:
    """The next limit of an open demand: to accept while it waits (or to resolve if sooner), else to resolve."""
    accept_or_resolve = Least(Coalesce("accept_due_at", "resolve_due_at"), Coalesce("resolve_due_at", "accept_due_at"))
    return Case(
        When(state__in=PAUSED_STATES, then=Value(None, output_field=DateTimeField())),  # no clock runs
        When(state__in=WAITING_STATES, then=accept_or_resolve),
        default=F("resolve_due_at"),
    )


def landing(*, user: Any, top: int = TOP_ITEMS) -> Landing:
    """The user's queue: counts of held open demands by what needs doing, and the `top` most pressing.

    Three queries whatever the numbers (the scope is read once per request and cached on the user); the third
    counts the requests awaiting the user's decision (待审批). Department staff add a fourth: their
    co-handling tasks (协办任务), counted as the list shows them.
    """
    if not holds_demands(user):
        return Landing(holds=False)
    now = clock.now()
    soon = now + dt.timedelta(hours=DUE_SOON_HOURS)
    mine = held_open(user)
    figures = mine.aggregate(
        open=Count("id"),
        new=Count("id", filter=Q(state__in=WAITING_STATES)),
        overdue=Count("id", filter=late_q(now)),
        due_soon=Count("id", filter=late_q(soon) & ~late_q(now)),
        urgent=Count("id", filter=Q(urgency=Urgency.URGENT)),
        escalated=Count("id", filter=escalated_q()),
    )
    view = {"view": "mine"}
    params = {
        "new": {**view, "waiting": "1"},
        "overdue": {**view, "overdue": "1"},
        "due_soon": {**view, "due_within": str(DUE_SOON_HOURS)},
        "urgent": {**view, "urgency": Urgency.URGENT},
        "escalated": {**view, "escalated": "1"},
        "open": view,
    }
    counts = [QueueCount(key=key, count=int(figures[key] or 0), params=params[key]) for key in params]
    items = list(
        mine.select_related("area", "category", "holder_area", "holder_department")
        .annotate(due=next_due())
        # Most pressing first: the longest overdue, then the soonest due; urgent before normal on a tie.
        .order_by(F("due").asc(nulls_last=True), "-urgency", "id")[:top]
    )
    assisting = assist_selectors.assist_tasks(user=user).count() if user.role == Role.DEPARTMENT else 0
    return Landing(
        holds=True, counts=counts, top=items, now=now, to_decide=count_to_decide(user=user), assist_tasks=assisting
    )
