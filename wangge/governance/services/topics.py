"""Topics (每月一题): made from a hot issue, planned, reported on, closed, turned into a livelihood project.

A topic moves proposed → active → done; each move is a conditional UPDATE on the state, so two
people closing one topic at once give one winner and one Conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.text import clean_text
from wangge.demands.models import Category, Demand
from wangge.governance import selectors
from wangge.governance.models import GovernanceTopic, LinkHow, TopicDemand, TopicProgress, TopicState
from wangge.governance.services._common import require_manage
from wangge.registry.models import Area, Department, Level

MAX_KEYWORDS = 6
MAX_HOT_DEMANDS = 2000


def _clean_keywords(keywords: Iterable[str]) -> list[str]:
    out: list[str] = []
    for w in keywords or ():
        word = str(w or "").strip()[:20]
        if word and word not in out:
            out.append(word)
    return out[:MAX_KEYWORDS]


def _check_fields(*, area: Area, department: Department, due_on: dt.date) -> None:
    if area.level not in (Level.CITY, Level.TOWN):
        raise ValidationFailed(_("a topic belongs to the city or a town"), field="area")
    if not area.path.startswith(department.area_path):
        raise ValidationFailed(_("the department belongs to another city"), field="department")
    if not isinstance(due_on, dt.date):
        raise ValidationFailed(_("give a date (YYYY-MM-DD)"), field="due_on")
    if due_on < clock.today_local():
        raise ValidationFailed(_("the due date has passed"), field="due_on")


@transaction.atomic
def topic_create_from_hot_issue(
    *,
    user: Any,
    title: str,
    area: Area,
    department: Department,
    due_on: dt.date,
    demand_ids: Iterable[int] = (),
    keywords: Iterable[str] = (),
    summary: str = "",
    plan: str = "",
    category: Category | None = None,
) -> GovernanceTopic:
    """A proposed topic from a hot issue: its demands (those the user may see, under the area) are linked,
    its signature (category, place, key words) is taken from them unless a category is given."""
    from wangge.demands.permissions import visible_q

    if not selectors.can_create(user, area=area, department=department):
        raise PermissionDenied(
            _("only city or town staff of the area, or the lead department, may make a topic"), field="area"
        )
    title = clean_text(title, field="title", limit=120, label=pgettext_lazy("topic field", "title"), required=True)
    summary = clean_text(summary, field="summary", limit=2000, label=pgettext_lazy("topic field", "summary"))
    plan = clean_text(plan, field="plan", limit=4000, label=pgettext_lazy("topic field", "plan"))
    _check_fields(area=area, department=department, due_on=due_on)
    ids = sorted({int(i) for i in demand_ids})[:MAX_HOT_DEMANDS]
    demands = list(
        Demand.objects.filter(visible_q(user), pk__in=ids, area_path__startswith=area.path).exclude(state="merged")
    )
    if ids and not demands:
        raise ValidationFailed(_("none of the hot issue's demands lies in this area"), field="area")
    category_id, place = selectors.signature_of(demands)
    now = clock.now()
    topic = GovernanceTopic.objects.create(
        title=title,
        summary=summary,
        area=area,
        area_path=area.path,
        department=department,
        plan=plan,
        due_on=due_on,
        state=TopicState.PROPOSED,
        category_id=category.pk if category is not None else category_id,
        place_path=place if place.startswith(area.path) else "",
        keywords=_clean_keywords(keywords),
        # New demands are looked at from here on: the hot issue's own are linked now.
        scanned_through=Demand.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        created_by=user,
        created_at=now,
        updated_at=now,
    )
    TopicDemand.objects.bulk_create(
        [TopicDemand(topic=topic, demand=d, how=LinkHow.HOT_ISSUE, linked_at=now, linked_by=user) for d in demands]
    )
    return topic


@transaction.atomic
def topic_update(
    *,
    user: Any,
    topic: GovernanceTopic,
    title: str | None = None,
    summary: str | None = None,
    plan: str | None = None,
    due_on: dt.date | None = None,
    department: Department | None = None,
    keywords: Iterable[str] | None = None,
    activate: bool = False,
) -> GovernanceTopic:
    """Change what is given; `activate` makes a proposed topic active (public, and matched by the worker)."""
    require_manage(user, topic)
    if topic.state == TopicState.DONE:
        raise Conflict(_("the topic is closed"))
    if title is not None:
        topic.title = clean_text(
            title, field="title", limit=120, label=pgettext_lazy("topic field", "title"), required=True
        )
    if summary is not None:
        topic.summary = clean_text(summary, field="summary", limit=2000, label=pgettext_lazy("topic field", "summary"))
    if plan is not None:
        topic.plan = clean_text(plan, field="plan", limit=4000, label=pgettext_lazy("topic field", "plan"))
    if department is not None or due_on is not None:
        _check_fields(area=topic.area, department=department or topic.department, due_on=due_on or topic.due_on)
        topic.department = department or topic.department
        topic.due_on = due_on or topic.due_on
    if keywords is not None:
        topic.keywords = _clean_keywords(keywords)
    now = clock.now()
    if activate:
        if topic.state != TopicState.PROPOSED:
            raise Conflict(_("the topic is already active"))
        if not topic.plan:
            raise ValidationFailed(_("write the plan before the topic goes public"), field="plan")
        moved = GovernanceTopic.objects.filter(pk=topic.pk, state=TopicState.PROPOSED).update(
            state=TopicState.ACTIVE, updated_at=now
        )
        if not moved:
            raise Conflict(_("the topic is already active"))
        topic.state = TopicState.ACTIVE
    topic.updated_at = now
    topic.save()
    return topic


@transaction.atomic
def topic_progress_add(
    *, user: Any, topic: GovernanceTopic, note: str, on: dt.date | None = None, is_public: bool = True
) -> TopicProgress:
    """A dated progress note; public ones show on the public page, so they must carry no personal data."""
    require_manage(user, topic)
    if topic.state == TopicState.DONE:
        raise Conflict(_("the topic is closed"))
    note = clean_text(note, field="note", limit=2000, label=pgettext_lazy("topic field", "progress"), required=True)
    day = on or clock.today_local()
    if day > clock.today_local():
        raise ValidationFailed(_("progress cannot be dated in the future"), field="on")
    now = clock.now()
    GovernanceTopic.objects.filter(pk=topic.pk).update(updated_at=now)
    return TopicProgress.objects.create(topic=topic, on=day, note=note, is_public=is_public, by=user, created_at=now)


@transaction.atomic
def topic_close(*, user: Any, topic: GovernanceTopic, note: str) -> GovernanceTopic:
    """Done: what was achieved, in a closure note the public page shows."""
    require_manage(user, topic)
    note = clean_text(note, field="note", limit=4000, label=pgettext_lazy("topic field", "closure note"), required=True)
    now = clock.now()
    moved = (
        GovernanceTopic.objects.filter(pk=topic.pk)
        .exclude(state=TopicState.DONE)
        .update(state=TopicState.DONE, closure_note=note, closed_at=now, updated_at=now)
    )
    if not moved:
        raise Conflict(_("the topic is closed"))
    topic.refresh_from_db()
    return topic


@transaction.atomic
def topic_link_demand(*, user: Any, topic: GovernanceTopic, demand: Demand, how: str = LinkHow.HAND) -> TopicDemand:
    """Link a demand the user may see, under the topic's area, by hand."""
    from wangge.demands.permissions import can_see

    require_manage(user, topic)
    if not can_see(demand=demand, user=user):
        raise PermissionDenied(_("you may not see this demand"), field="demand")
    if not demand.area_path.startswith(topic.area_path):
        raise ValidationFailed(_("the demand lies outside the topic's area"), field="demand")
    if how not in LinkHow.values:
        raise ValidationFailed(_("unknown kind of link"), field="how")
    try:
        with transaction.atomic():
            return TopicDemand.objects.create(
                topic=topic, demand=demand, how=how, linked_at=clock.now(), linked_by=user
            )
    except IntegrityError:
        raise Conflict(_("the demand is already linked to this topic"), field="demand") from None


@transaction.atomic
def topic_unlink_demand(*, user: Any, topic: GovernanceTopic, demand: Demand) -> None:
    require_manage(user, topic)
    deleted, _rows = TopicDemand.objects.filter(topic=topic, demand=demand).delete()
    if not deleted:
        raise ValidationFailed(_("the demand is not linked to this topic"), field="demand")


@transaction.atomic
def topic_to_project(
    *,
    user: Any,
    topic: GovernanceTopic,
    code: str,
    domain: str,
    target: int,
    unit: str,
    year: int | None = None,
    deadline: dt.date | None = None,
    works_kind: str = "",
    budget_fen: int = 0,
) -> Any:
    """A livelihood project (民生实事) made from the topic by the projects service, and linked to it."""
    from wangge.projects.services import project_create

    require_manage(user, topic)
    if topic.project_id is not None:
        raise Conflict(_("the topic already has a livelihood project"))
    due = deadline or topic.due_on
    project = project_create(
        user=user,
        code=code,
        name=topic.title,
        year=year or due.year,
        domain=domain,
        works_kind=works_kind,
        target=target,
        unit=unit,
        budget_fen=budget_fen,
        department=topic.department,
        deadline=due,
        area=topic.area,
        description="\n\n".join(p for p in (topic.summary, topic.plan) if p),
    )
    moved = GovernanceTopic.objects.filter(pk=topic.pk, project__isnull=True).update(
        project=project, updated_at=clock.now()
    )
    if not moved:
        raise Conflict(_("the topic already has a livelihood project"))
    topic.project = project
    return project
