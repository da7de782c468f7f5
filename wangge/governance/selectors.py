"""Reads of governance topics, each filtered by the acting user's scope, and who may act on them.

Staff see a topic of their own areas (a town's staff its town's topics), of an area above theirs
(the city's topics reach every grid leader who may get a proactive task from them), or led by their
department. The public sees active and finished topics, with no personal data: no demand titles,
no names, phones or addresses, only counts and the staff's public progress notes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import Scope, scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.demands.models import Demand, DemandFollower
from wangge.demands.permissions import visible_q
from wangge.governance.models import (
    PUBLIC_STATES,
    GovernanceTopic,
    LinkHow,
    ProactiveTask,
    TopicDemand,
    TopicProgress,
)
from wangge.registry.models import Area, Department
from wangge.triage.selectors import is_system_filed

_NOTHING = Q(pk__in=[])


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def topic_visible_q(scope: Scope) -> Q:
    """Topics a scope sees: in or above its areas, or led by its departments."""
    if scope.is_global:
        return Q()
    q = _NOTHING
    if scope.area_paths:
        q |= scope.area_q("area_path")
        q |= Q(area_path__in=sorted({a for p in scope.area_paths for a in _ancestors(p)}))
    if scope.department_ids:
        q |= scope.department_q("department_id")
    return q


def can_create(user: Any, *, area: Area, department: Department | None = None) -> bool:
    """City administrators and town staff of the area, and staff of the department that would lead it."""
    scope = scope_for(user)
    if scope.read_only or scope.is_empty:
        return False
    if scope.is_global:
        return True
    role = getattr(user, "role", "")
    if role in (Role.CITY_ADMIN, Role.TOWN) and scope.covers_path(area.path):
        return True
    return role == Role.DEPARTMENT and department is not None and scope.covers_department(department.pk)


def can_manage(user: Any, topic: GovernanceTopic) -> bool:
    """Who changes a topic: city administrators and town staff over its area, and its lead department's staff."""
    scope = scope_for(user)
    if scope.read_only or scope.is_empty:
        return False
    if scope.is_global:
        return True
    role = getattr(user, "role", "")
    if role in (Role.CITY_ADMIN, Role.TOWN) and scope.covers_path(topic.area_path):
        return True
    return role == Role.DEPARTMENT and scope.covers_department(topic.department_id)


def topic_list(*, user: Any, state: str | None = None) -> QuerySet[GovernanceTopic]:
    scope = scope_for(user)
    if scope.is_empty:
        return GovernanceTopic.objects.none()
    qs = GovernanceTopic.objects.filter(topic_visible_q(scope)).select_related("area", "department", "project")
    if state:
        qs = qs.filter(state=state)
    return qs.annotate(linked=Count("links"))


def topic_get(*, user: Any, pk: int) -> GovernanceTopic:
    """A topic the user may see, or NotFound (the same answer for one that does not exist)."""
    found = topic_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("topic not found"))
    return found


@dataclass(frozen=True)
class Reach:
    """How many people a topic's demands stand for, and the system-filed records counted apart."""

    demands: int
    people: int
    records: int


def topic_reach(topic: GovernanceTopic) -> Reach:
    """People: distinct reporters (phone, else household, else the demand) and followers; records apart."""
    ids = list(TopicDemand.objects.filter(topic=topic).values_list("demand_id", flat=True))
    people: set[str] = set()
    records = 0
    for pk, channel, phone, household_id in Demand.objects.filter(pk__in=ids).values_list(
        "pk", "channel", "reporter_phone", "household_id"
    ):
        if is_system_filed(channel=channel, reporter_phone=phone, household_id=household_id):
            records += 1
        else:
            people.add(phone or (f"h{household_id}" if household_id else f"d{pk}"))
    people.update(DemandFollower.objects.filter(demand_id__in=ids).values_list("phone", flat=True))
    return Reach(demands=len(ids), people=len(people), records=records)


def topic_links(*, user: Any, topic: GovernanceTopic) -> list[TopicDemand]:
    """The topic's linked demands that the user may see (a town's staff do not see another town's)."""
    visible = Demand.objects.filter(visible_q(user)).values("pk")
    return list(
        TopicDemand.objects.filter(topic=topic, demand__in=visible).select_related("demand", "demand__area")[:500]
    )


def topic_progress(*, topic: GovernanceTopic, public_only: bool = False) -> list[TopicProgress]:
    qs = TopicProgress.objects.filter(topic=topic)
    if public_only:
        qs = qs.filter(is_public=True)
    return list(qs)


def topic_proactive(*, user: Any, topic: GovernanceTopic) -> list[ProactiveTask]:
    visible = Demand.objects.filter(visible_q(user)).values("pk")
    return list(ProactiveTask.objects.filter(topic=topic, demand__in=visible).select_related("demand", "demand__area"))


def topic_grids(topic: GovernanceTopic) -> list[Area]:
    """The grids concerned by a topic: where its linked demands (from people or the system) were filed."""
    ids = (
        TopicDemand.objects.filter(topic=topic)
        .exclude(how=LinkHow.PROACTIVE)
        .values_list("demand__area_id", flat=True)
        .distinct()
    )
    return list(Area.objects.filter(pk__in=list(ids), level="grid").order_by("path"))


# --- matching new demands (the auto-link pass) --------------------------------------------------

SAMPLE_SIZE = 20


def topic_samples(topic: GovernanceTopic) -> list[tuple[str, str]]:
    """(title, description) of the topic's latest linked demands filed by people: what new ones are compared with."""
    rows = (
        TopicDemand.objects.filter(topic=topic)
        .exclude(how=LinkHow.PROACTIVE)
        .order_by("-demand_id")
        .values_list("demand__title", "demand__description")
    )
    return list(rows[:SAMPLE_SIZE])


def topic_matches(topic: GovernanceTopic, demand: Demand, samples: list[tuple[str, str]]) -> bool:
    """Same category (or one under it), under the topic's place, and words like the topic's demands or key words.

    "Like": the duplicate finder's measure (`triage.matching.pool_similarity`: synonyms, BM25, how much of
    what the new demand says a linked demand says, the samples read as its pool) reaches the threshold."""
    from wangge.triage.matching import cached_terms, pool_similarity, terms
    from wangge.triage.similarity import key_words

    if not demand.area_path.startswith(topic.match_path):
        return False
    if topic.category_id is not None:
        code = demand.category.code if demand.category is not None else ""
        if not code.startswith(topic.category.code):  # type: ignore[union-attr]
            return False
    threshold = float(getattr(settings, "GOVERNANCE_AUTOLINK_THRESHOLD", 0.45))
    if samples:
        said = pool_similarity(
            terms(f"{demand.title} {demand.description}"), [cached_terms(t or "", d or "") for t, d in samples]
        )
        if float(said.max()) >= threshold:
            return True
    wanted = [w for w in topic.keywords if w][:3]
    if not wanted:
        return False
    found = set(key_words(f"{demand.title} {demand.description}"))
    text = f"{demand.title}{demand.description}"
    return all(w in found or w in text for w in wanted)


def signature_of(demands: list[Demand]) -> tuple[Any, str]:
    """The hot issue's category (the most common among its demands) and place (their common area path)."""
    categories = Counter(d.category_id for d in demands if d.category_id is not None)
    category_id = categories.most_common(1)[0][0] if categories else None
    paths = [d.area_path for d in demands if d.area_path]
    place = ""
    if paths:
        common = _ancestors(paths[0])
        for p in paths[1:]:
            common = [a for a in common if p.startswith(a)]
        place = common[-1] if common else ""
    return category_id, place


# --- facilities with repeated failures ------------------------------------------------------------


@dataclass(frozen=True)
class FailingFacility:
    facility: Any
    failures: int
    open_task: ProactiveTask | None


def failure_window() -> tuple[int, int]:
    """(failures, days): how many failed checklist items within how many days make a facility's repeated failure."""
    return (
        int(getattr(settings, "GOVERNANCE_FACILITY_FAILURES", 3)),
        int(getattr(settings, "GOVERNANCE_FACILITY_WINDOW_DAYS", 30)),
    )


def failing_facilities(*, scope: Scope | None = None, now: dt.datetime | None = None) -> list[FailingFacility]:
    """Active facilities with at least the set number of failed items in the window (inside a scope when given)."""
    from wangge.facilities.models import Facility, InspectionItem

    failures, days = failure_window()
    since = (now or clock.now()) - dt.timedelta(days=days)
    items = InspectionItem.objects.filter(passed=False, inspection__at__gte=since, inspection__facility__is_active=True)
    if scope is not None:
        if scope.is_empty:
            return []
        items = items.filter(
            scope.area_q("inspection__facility__area_path") | scope.department_q("inspection__facility__department_id")
            if not scope.is_global
            else Q()
        )
    counts = dict(
        items.values("inspection__facility_id")
        .annotate(n=Count("id"))
        .filter(n__gte=failures)
        .values_list("inspection__facility_id", "n")
    )
    if not counts:
        return []
    recent = {
        t.facility_id: t
        for t in ProactiveTask.objects.filter(facility_id__in=list(counts), opened_at__gte=since).select_related(
            "demand"
        )
    }
    facilities = Facility.objects.filter(pk__in=list(counts)).select_related("facility_type", "area")
    return [FailingFacility(facility=f, failures=counts[f.pk], open_task=recent.get(f.pk)) for f in facilities]


# --- the public page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicTopic:
    topic: GovernanceTopic
    reach: Reach
    progress: list[TopicProgress]


def public_topics() -> list[PublicTopic]:
    qs = GovernanceTopic.objects.filter(state__in=PUBLIC_STATES).select_related("area", "department", "project")
    return [
        PublicTopic(topic=t, reach=topic_reach(t), progress=topic_progress(topic=t, public_only=True)[:3])
        for t in qs.order_by("state", "-created_at")[:100]
    ]


def public_topic_get(*, pk: int) -> PublicTopic:
    topic = (
        GovernanceTopic.objects.filter(pk=pk, state__in=PUBLIC_STATES)
        .select_related("area", "department", "project")
        .first()
    )
    if topic is None:
        raise NotFound(_("topic not found"))
    return PublicTopic(topic=topic, reach=topic_reach(topic), progress=topic_progress(topic=topic, public_only=True))
