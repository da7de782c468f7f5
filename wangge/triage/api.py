"""Triage API under /api/v1/triage/: suggestion, duplicates nearby and hot issues, for staff apps.

Reads are limited to the caller's scope: the area asked about must be inside it, and duplicate
demands outside it are dropped from the answer.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.accounts.scope import scope_for
from wangge.core.api import BodyIn
from wangge.core.errors import ValidationFailed
from wangge.demands.models import Demand
from wangge.demands.permissions import offerable_q
from wangge.registry.selectors import area_get
from wangge.triage import selectors, services

router = Router(tags=["triage"], auth=STAFF_AUTH)


class SuggestIn(BodyIn):
    title: str
    description: str = ""


class ScoredLabel(Schema):
    code: str
    score: float


class SuggestOut(Schema):
    category_code: str | None = None
    department_code: str | None = None
    confidence: float | None = None
    auto_apply: bool = False
    source: str | None = None
    explanation: str = ""
    top: list[ScoredLabel] = []


class DuplicatesIn(BodyIn):
    title: str
    description: str = ""
    area_id: int
    category_code: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str = ""  # its road counts as "the same road"


class DuplicateOut(Schema):
    demand_id: int
    code: str
    title: str
    state: str
    created_at: dt.datetime
    score: float
    reason: str
    distance_m: float | None = None  # from the point given, when both are known


class HotGroupOut(Schema):
    name: str
    key_words: list[str]
    size: int
    users: int
    records: int = 0  # system-filed records (inspections with no reporter), not people
    areas: int
    support: int
    heat: float
    demand_ids: list[int]
    titles: list[str]


@router.post("/triage/suggest", response=SuggestOut)
def suggest(request: HttpRequest, payload: SuggestIn) -> SuggestOut:
    """Category and department suggestion for a text (rules first, then the active model)."""
    s = services.suggest(title=payload.title, description=payload.description)
    if s is None:
        return SuggestOut()
    return SuggestOut(
        category_code=s.category_code,
        department_code=s.department_code,
        confidence=s.confidence,
        auto_apply=s.auto_apply,
        source=s.source,
        explanation=s.explanation,
        top=[ScoredLabel(code=code, score=score) for code, score in s.top],
    )


@router.post("/triage/duplicates", response=list[DuplicateOut])
def duplicates(request: HttpRequest, payload: DuplicatesIn) -> list[DuplicateOut]:
    """Open demands nearby that look like the same problem (only those the caller may see and be offered)."""
    area = area_get(user=request.user, pk=payload.area_id)
    scope = scope_for(request.user)
    found = selectors.duplicate_candidates(
        title=payload.title,
        description=payload.description,
        area_path=area.path,
        category_code=payload.category_code,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
    )
    ids = [c.demand.pk for c in found]  # a report (举报) is offered to its holders only
    offerable = set(Demand.objects.filter(offerable_q(request.user), pk__in=ids).values_list("pk", flat=True))
    return [
        DuplicateOut(
            demand_id=c.demand.pk,
            code=c.demand.code,
            title=c.demand.title,
            state=c.demand.state,
            created_at=c.demand.created_at,
            score=c.score,
            reason=c.reason,
            distance_m=c.distance_m,
        )
        for c in found
        if scope.covers_path(c.demand.area_path) and c.demand.pk in offerable
    ]


@router.get("/triage/hot", response=list[HotGroupOut])
def hot(request: HttpRequest, days: int = 7, area_id: int | None = None, top: int = 10) -> list[HotGroupOut]:
    """Hot issues of the last `days` days under an area of the caller's scope (default: all of it)."""
    if not 1 <= days <= 366:
        raise ValidationFailed(_("days must be 1–366"), field="days")
    top = max(1, min(top, 50))
    scope = scope_for(request.user)
    if area_id is not None:
        paths: list[str | None] = [area_get(user=request.user, pk=area_id).path]
    elif scope.is_global:
        paths = [None]
    else:
        paths = list(scope.area_paths)
    groups = []
    for path in paths:
        groups.extend(selectors.hot_issues_recent(days=days, area_path=path, top=top))
    groups.sort(key=lambda g: -g.heat)
    return [
        HotGroupOut(
            name=g.name,
            key_words=g.key_words,
            size=g.size,
            users=g.users,
            records=g.records,
            areas=g.areas,
            support=g.support,
            heat=round(g.heat, 2),
            demand_ids=list(cast("list[int]", g.extra.get("demand_ids", []))),
            titles=g.titles,
        )
        for g in groups[:top]
    ]
