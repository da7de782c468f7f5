"""Governance topics API: list and read (scoped), make one from a hot issue, its actions, the public list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import ValidationFailed
from wangge.demands.models import Demand
from wangge.demands.permissions import visible_q
from wangge.governance import selectors, services
from wangge.governance.models import GovernanceTopic
from wangge.governance.schemas import (
    CloseIn,
    LinkIn,
    ProactiveIn,
    ProactiveOut,
    ProgressIn,
    ProgressOut,
    PublicTopicOut,
    TopicDetailOut,
    TopicIn,
    TopicOut,
    TopicProjectIn,
    TopicUpdateIn,
)
from wangge.registry.models import Area, Department, Level

router = Router(tags=["governance"], auth=STAFF_AUTH)


def _out(topic: GovernanceTopic) -> dict[str, Any]:
    return {
        **{f: getattr(topic, f) for f in ("id", "title", "summary", "area_id", "department_id", "plan", "due_on")},
        **{f: getattr(topic, f) for f in ("state", "closure_note", "closed_at", "keywords", "project_id")},
        "area_name": topic.area.name,
        "department_name": topic.department.name,
        "category_code": topic.category.code if topic.category is not None else None,
    }


def _detail(request: HttpRequest, topic: GovernanceTopic) -> dict[str, Any]:
    return {
        **_out(topic),
        "reach": selectors.topic_reach(topic),
        "progress": selectors.topic_progress(topic=topic),
        "links": selectors.topic_links(user=request.user, topic=topic),
    }


@router.get("/topics/public", response=list[PublicTopicOut], auth=None)
def public_topics(request: HttpRequest) -> list[dict[str, Any]]:
    """No login: active and finished topics, public progress and counts; no demands, no personal data."""
    return [
        {
            **{f: getattr(r.topic, f) for f in ("id", "title", "summary", "plan", "due_on", "state", "closure_note")},
            "area_name": r.topic.area.name,
            "department_name": r.topic.department.name,
            "reach": r.reach,
            "progress": r.progress,
        }
        for r in selectors.public_topics()
    ]


@router.get("/topics", response=list[TopicOut])
def list_topics(request: HttpRequest, state: str | None = None) -> list[dict[str, Any]]:
    return [_out(t) for t in selectors.topic_list(user=request.user, state=state).select_related("category")[:500]]


@router.post("/topics", response={201: TopicDetailOut})
def create_topic(request: HttpRequest, payload: TopicIn) -> Status[dict[str, Any]]:
    """Make a (proposed) topic from a hot issue: its demand ids and key words as the hot-issue API gives them."""
    area = Area.objects.filter(pk=payload.area_id, level__in=[Level.CITY, Level.TOWN]).first()
    if area is None:
        raise ValidationFailed(_("choose the city or a town"), field="area_id")
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed(_("choose the lead department"), field="department_id")
    topic = services.topic_create_from_hot_issue(
        user=request.user,
        title=payload.title,
        area=area,
        department=department,
        due_on=payload.due_on,
        demand_ids=payload.demand_ids,
        keywords=payload.keywords,
        summary=payload.summary,
        plan=payload.plan,
    )
    return Status(201, _detail(request, selectors.topic_get(user=request.user, pk=topic.pk)))


@router.get("/topics/{topic_id}", response=TopicDetailOut)
def get_topic(request: HttpRequest, topic_id: int) -> dict[str, Any]:
    return _detail(request, selectors.topic_get(user=request.user, pk=topic_id))


@router.post("/topics/{topic_id}", response=TopicDetailOut)
def update_topic(request: HttpRequest, topic_id: int, payload: TopicUpdateIn) -> dict[str, Any]:
    """Change a topic's words, plan or due date; `activate` publishes a proposed one."""
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    services.topic_update(
        user=request.user,
        topic=topic,
        title=payload.title,
        summary=payload.summary,
        plan=payload.plan,
        due_on=payload.due_on,
        keywords=payload.keywords,
        activate=payload.activate,
    )
    return _detail(request, selectors.topic_get(user=request.user, pk=topic_id))


@router.post("/topics/{topic_id}/progress", response={201: ProgressOut})
def add_progress(request: HttpRequest, topic_id: int, payload: ProgressIn) -> Status[Any]:
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    note = services.topic_progress_add(
        user=request.user, topic=topic, note=payload.note, on=payload.on, is_public=payload.is_public
    )
    return Status(201, note)


@router.post("/topics/{topic_id}/close", response=TopicDetailOut)
def close_topic(request: HttpRequest, topic_id: int, payload: CloseIn) -> dict[str, Any]:
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    services.topic_close(user=request.user, topic=topic, note=payload.note)
    return _detail(request, selectors.topic_get(user=request.user, pk=topic_id))


@router.post("/topics/{topic_id}/links", response=TopicDetailOut)
def link_demand(request: HttpRequest, topic_id: int, payload: LinkIn) -> dict[str, Any]:
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    demand = Demand.objects.filter(visible_q(request.user), pk=payload.demand_id).first()
    if demand is None:
        raise ValidationFailed(_("no demand with this code"), field="demand_id")
    services.topic_link_demand(user=request.user, topic=topic, demand=demand)
    return _detail(request, topic)


@router.post("/topics/{topic_id}/project", response=TopicDetailOut)
def to_project(request: HttpRequest, topic_id: int, payload: TopicProjectIn) -> dict[str, Any]:
    """A livelihood project made from the topic (city administrators: the projects rule)."""
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    services.topic_to_project(
        user=request.user,
        topic=topic,
        code=payload.code,
        domain=payload.domain,
        target=payload.target,
        unit=payload.unit,
    )
    return _detail(request, selectors.topic_get(user=request.user, pk=topic_id))


@router.post("/topics/{topic_id}/proactive", response={201: ProactiveOut})
def open_proactive(request: HttpRequest, topic_id: int, payload: ProactiveIn) -> Status[dict[str, Any]]:
    """未诉先办: one proactive demand per grid (default: the grids of the topic's demands)."""
    topic = selectors.topic_get(user=request.user, pk=topic_id)
    grids = None
    if payload.grid_ids is not None:
        grids = list(Area.objects.filter(pk__in=payload.grid_ids))
        if len(grids) != len(set(payload.grid_ids)):
            raise ValidationFailed(_("choose micro-grids inside the topic's area"), field="grid_ids")
    opened = services.topic_open_proactive_tasks(user=request.user, topic=topic, grids=grids, note=payload.note)
    return Status(201, {"opened": [t.demand.code for t in opened.tasks], "already": opened.already})
