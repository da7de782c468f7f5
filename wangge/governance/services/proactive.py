"""Proactive tasks (未诉先办): demands opened in a grid before anyone there complained.

A topic opens one per concerned grid (where its demands came from, or grids chosen by staff); a
facility that failed its inspections again and again opens one for its own area. Each is filed by
`demand_submit` on the inspection channel with no reporter, so it counts as a system record in hot
issues, never as a person; the idempotency key makes a second click or a racing worker file nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.links import public_url
from wangge.demands.models import Category
from wangge.governance import selectors
from wangge.governance.models import (
    GovernanceTopic,
    LinkHow,
    ProactiveSource,
    ProactiveTask,
    TopicDemand,
    TopicState,
)
from wangge.governance.services._common import require_manage, told
from wangge.registry.models import Area, Level


@dataclass(frozen=True)
class Opened:
    """What one call opened: the new tasks, and the grids that had theirs already."""

    tasks: list[ProactiveTask]
    already: int


@transaction.atomic
def topic_open_proactive_tasks(
    *, user: Any, topic: GovernanceTopic, grids: Iterable[Area] | None = None, note: str = ""
) -> Opened:
    """One proactive demand per grid (default: the grids of the topic's demands), once per grid and topic."""
    from wangge.demands.services import MAX_TITLE, demand_submit

    require_manage(user, topic)
    if topic.state != TopicState.ACTIVE:
        raise Conflict(_("only an active topic opens proactive tasks"))
    chosen = list(grids) if grids is not None else selectors.topic_grids(topic)
    if not chosen:
        raise ValidationFailed(_("no grid to open a proactive task in"), field="grids")
    for grid in chosen:
        if grid.level != Level.GRID or not grid.path.startswith(topic.area_path):
            raise ValidationFailed(_("choose micro-grids inside the topic's area"), field="grids")
    link = public_url(reverse("governance:public_topic", args=[topic.pk]))
    title = told(_("Proactive (未诉先办): %(title)s"), {"title": topic.title})[:MAX_TITLE]
    description = told(
        _(
            'Proactive task of the governance topic "%(title)s": check this grid for the problem before '
            "anyone reports it, and handle what you find. Plan: %(plan)s %(note)s Topic: %(link)s"
        ),
        {"title": topic.title, "plan": topic.plan or "—", "note": note.strip(), "link": link},
    )
    opened: list[ProactiveTask] = []
    already = 0
    now = clock.now()
    for grid in chosen:
        result = demand_submit(
            channel="inspection",
            kind="report",
            title=title,
            description=description,
            category=topic.category,
            grid=grid,
            actor=user,
            idempotency_key=f"governance-topic:{topic.pk}:grid:{grid.pk}",
        )
        if result.replayed:
            already += 1
            continue
        task = ProactiveTask.objects.create(
            source=ProactiveSource.TOPIC,
            topic=topic,
            demand=result.demand,
            area_path=result.demand.area_path,
            opened_at=now,
            opened_by=user,
        )
        TopicDemand.objects.create(
            topic=topic, demand=result.demand, how=LinkHow.PROACTIVE, linked_at=now, linked_by=user
        )
        opened.append(task)
    return Opened(tasks=opened, already=already)


def _facility_task(*, facility: Any, failures: int, days: int, user: Any, now: dt.datetime) -> ProactiveTask | None:
    from wangge.demands.services import MAX_TITLE, demand_submit
    from wangge.facilities.models import InspectionItem

    last = (
        InspectionItem.objects.filter(inspection__facility=facility, passed=False)
        .order_by("-inspection__at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    names = {"type": facility.facility_type.name, "facility": facility.name, "n": failures, "days": days}
    title = told(_("Proactive (未诉先办): %(type)s '%(facility)s' keeps failing inspection"), names)[:MAX_TITLE]
    description = told(
        _(
            "%(type)s '%(facility)s' failed %(n)s inspection items in %(days)s days. Before residents "
            "complain, find the cause with its director and fix it for good."
        ),
        names,
    )
    code = facility.facility_type.category_code
    args: dict[str, Any] = {
        "channel": "inspection",
        "kind": "report",
        "title": title,
        "description": description,
        # A type set up before its category existed files without one (the holder sets it).
        "category": code if code and Category.objects.filter(code=code, is_active=True).exists() else None,
        "address": facility.address or facility.name,
        # The failure that tipped it: a racing worker or a second click files nothing more.
        "idempotency_key": f"governance-facility:{facility.pk}:{last}",
    }
    if facility.area.level == Level.GRID:
        args["grid"] = facility.area
    else:
        args.update(area=facility.area, lat=facility.lat, lng=facility.lng)
    try:
        # Staff file it in their name; the worker, or staff whose account cannot file there, as the system.
        with transaction.atomic():
            result = demand_submit(actor=user, **args)
    except PermissionDenied:
        result = demand_submit(actor=None, **args)
    if result.replayed:
        return None
    return ProactiveTask.objects.create(
        source=ProactiveSource.FACILITY,
        facility=facility,
        demand=result.demand,
        area_path=result.demand.area_path,
        failures=failures,
        opened_at=now,
        opened_by=user,
    )


@transaction.atomic
def facility_open_proactive_task(*, user: Any, facility: Any) -> ProactiveTask:
    """Staff open a proactive task for a facility that failed repeatedly (the console's button)."""
    from wangge.accounts.scope import scope_for

    scope = scope_for(user)
    if scope.read_only or not (
        scope.covers_path(facility.area_path) or scope.covers_department(facility.department_id)
    ):
        raise PermissionDenied(_("you may not open tasks for this facility"), field="facility")
    now = clock.now()
    found = {f.facility.pk: f for f in selectors.failing_facilities(scope=scope, now=now)}
    row = found.get(facility.pk)
    if row is None:
        raise ValidationFailed(_("this facility has not failed repeatedly"), field="facility")
    if row.open_task is not None:
        raise Conflict(_("a proactive task is already open for this facility"), field="facility")
    _failures, days = selectors.failure_window()
    task = _facility_task(facility=facility, failures=row.failures, days=days, user=user, now=now)
    if task is None:
        raise Conflict(_("a proactive task is already open for this facility"), field="facility")
    return task


def facility_proactive_pass(*, now: dt.datetime | None = None) -> int:
    """The worker's part: one proactive task for each facility past the failure threshold without one."""
    when = now or clock.now()
    _failures, days = selectors.failure_window()
    opened = 0
    for row in selectors.failing_facilities(now=when):
        if row.open_task is not None:
            continue
        with transaction.atomic():
            if _facility_task(facility=row.facility, failures=row.failures, days=days, user=None, now=when):
                opened += 1
    return opened
