"""The demands API under /api/v1/: intake with Idempotency-Key, scoped reads, one route per staff move.

Every read goes through the scoped selectors; every write through the services. A stale
`version` (or a lost race) answers 409 in the one error shape of core/api.py.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.accounts.models import User
from wangge.core.errors import NotFound, ValidationFailed
from wangge.demands import selectors, services
from wangge.demands.models import Category, Channel, Demand
from wangge.demands.schemas import (
    CategoryOut,
    CommentIn,
    CommentOut,
    DemandCreatedOut,
    DemandIn,
    DemandOut,
    DemandPage,
    DispatchIn,
    EventOut,
    MergeIn,
    ReasonIn,
    ReassignIn,
    ResolveIn,
    ReturnIn,
    VersionIn,
)
from wangge.registry.models import Area, Department, Household
from wangge.registry.selectors import area_get, household_get

router = Router(tags=["demands"], auth=STAFF_AUTH)

STAFF_CHANNELS = {Channel.API, Channel.WECHAT_GROUP, Channel.VISIT, Channel.HOTLINE, Channel.INSPECTION}


def demand_out(d: Demand) -> dict[str, Any]:
    return {
        "id": d.pk,
        "code": d.code,
        "kind": d.kind,
        "channel": d.channel,
        "category": d.category.code if d.category_id and d.category else None,
        "category_name": d.category.name if d.category_id and d.category else None,
        "urgency": d.urgency,
        "title": d.title,
        "description": d.description,
        "address": d.address,
        "lat": d.lat,
        "lng": d.lng,
        "reporter_name": d.reporter_name,
        "reporter_phone_masked": d.reporter_phone_masked,
        "area_id": d.area_id,
        "area_name": d.area.name if d.area_id and d.area else "",
        "holder": d.holder_label,
        "holder_kind": d.holder_kind,
        "holder_area_id": d.holder_area_id,
        "holder_department_id": d.holder_department_id,
        "holder_user_id": d.holder_user_id,
        "state": d.state,
        "version": d.version,
        "warning": d.warning,
        "escalations": d.escalations,
        "highest_level": d.highest_level,
        "accept_due_at": d.accept_due_at,
        "resolve_due_at": d.resolve_due_at,
        "accepted_at": d.accepted_at,
        "resolved_at": d.resolved_at,
        "closed_at": d.closed_at,
        "resolution": d.resolution,
        "satisfaction": d.satisfaction,
        "merged_into_id": d.merged_into_id,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


class ListFilters(Schema):
    state: str | None = None
    category: str | None = None
    urgency: str | None = None
    overdue: bool | None = None
    area_id: int | None = None
    channel: str | None = None
    q: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("分页游标无效", "the cursor is not valid", field="cursor") from None


def _date(value: str | None, field: str) -> Any:
    if not value:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD", field=field) from None


@router.post("/demands", response={200: DemandCreatedOut, 201: DemandCreatedOut})
def create_demand(request: HttpRequest, payload: DemandIn) -> Status[dict[str, Any]]:
    """File a demand (channel api, or the staff channel it came by). Send `Idempotency-Key` to retry safely."""
    user = request.user
    if payload.channel not in STAFF_CHANNELS:
        raise ValidationFailed(
            "该渠道不能通过接口提交", f"channel {payload.channel} is not for the API", field="channel"
        )
    household: Household | None = household_get(user=user, pk=payload.household_id) if payload.household_id else None
    area: Area | None = area_get(user=user, pk=payload.area_id) if payload.area_id else None
    raw_key = (request.headers.get("Idempotency-Key") or "").strip()
    # Keys are per user: another client's key must never hand back someone else's demand.
    key = f"api:{user.pk}:{raw_key}" if raw_key else None
    submitted = services.demand_submit(
        channel=payload.channel,
        title=payload.title,
        description=payload.description,
        kind=payload.kind,
        category=payload.category or None,
        urgency=payload.urgency,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        household=household,
        grid=payload.grid or None,
        area=area,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        actor=user,  # type: ignore[arg-type]
        idempotency_key=key,
    )
    demand, replayed = submitted.demand, submitted.replayed
    if replayed:
        demand = selectors.demand_get(user=user, pk=demand.pk)  # the first one, read in the caller's scope
    return Status(200 if replayed else 201, {**demand_out(demand), "tracking_token": demand.tracking_token})


@router.get("/demands", response=DemandPage)
def list_demands(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    """Demands in your scope, newest first; follow `next_cursor` for the next page."""
    area = area_get(user=request.user, pk=filters.area_id) if filters.area_id else None
    qs = selectors.demand_list(
        user=request.user,
        state=filters.state,
        category=filters.category,
        urgency=filters.urgency,
        overdue=filters.overdue,
        area=area,
        channel=filters.channel,
        q=filters.q,
        date_from=_date(filters.date_from, "date_from"),
        date_to=_date(filters.date_to, "date_to"),
    ).order_by("-id")
    if filters.cursor:
        qs = qs.filter(pk__lt=_decode_cursor(filters.cursor))
    limit = max(1, min(filters.limit, 200))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [demand_out(d) for d in rows],
        "next_cursor": _encode_cursor(rows[-1].pk) if more and rows else None,
    }


@router.get("/demands/{demand_id}", response=DemandOut)
def get_demand(request: HttpRequest, demand_id: int) -> dict[str, Any]:
    return demand_out(selectors.demand_get(user=request.user, pk=demand_id))


@router.get("/demands/{demand_id}/events", response=list[EventOut])
def demand_events(request: HttpRequest, demand_id: int) -> list[dict[str, Any]]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    return [
        {
            "id": e.pk,
            "at": e.at,
            "action": e.action,
            "actor": str(e.actor) if e.actor_id and e.actor else None,
            "actor_kind": e.actor_kind,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "from_holder": e.from_holder,
            "to_holder": e.to_holder,
            "note": e.note,
            "is_public": e.is_public,
        }
        for e in selectors.demand_timeline(demand=demand)
    ]


def _moved(request: HttpRequest, demand: Demand) -> dict[str, Any]:
    return demand_out(selectors.demand_get(user=request.user, pk=demand.pk))


@router.post("/demands/{demand_id}/accept", response=DemandOut)
def accept(request: HttpRequest, demand_id: int, payload: VersionIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    return _moved(request, services.demand_accept(demand=demand, actor=request.user, version=payload.version))  # type: ignore[arg-type]


@router.post("/demands/{demand_id}/resolve", response=DemandOut)
def resolve(request: HttpRequest, demand_id: int, payload: ResolveIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_resolve(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        result=payload.result,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/escalate", response=DemandOut)
def escalate(request: HttpRequest, demand_id: int, payload: ReasonIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_escalate(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/dispatch", response=DemandOut)
def dispatch(request: HttpRequest, demand_id: int, payload: DispatchIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    department = Department.objects.filter(pk=payload.department_id, is_active=True).first()
    if department is None:
        raise ValidationFailed("找不到该部门", "department not found", field="department_id")
    moved = services.demand_dispatch(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        department=department,
        note=payload.note,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/return", response=DemandOut)
def return_(request: HttpRequest, demand_id: int, payload: ReturnIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    to_area = None
    if payload.to_area_id:
        to_area = Area.objects.filter(pk=payload.to_area_id).first()
        if to_area is None:
            raise ValidationFailed("找不到该区域", "area not found", field="to_area_id")
    moved = services.demand_return(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        to_area=to_area,
        instructions=payload.instructions,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/reassign", response=DemandOut)
def reassign(request: HttpRequest, demand_id: int, payload: ReassignIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    to_user = User.objects.filter(pk=payload.to_user_id, is_active=True).first()
    if to_user is None:
        raise ValidationFailed("找不到该人员", "user not found", field="to_user_id")
    moved = services.demand_reassign(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        to_user=to_user,
        note=payload.note,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/reject", response=DemandOut)
def reject(request: HttpRequest, demand_id: int, payload: ReasonIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_reject(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/merge", response=DemandOut)
def merge(request: HttpRequest, demand_id: int, payload: MergeIn) -> dict[str, Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    try:
        into = selectors.demand_get(user=request.user, pk=payload.into_id)
    except NotFound:
        raise ValidationFailed("找不到要合并到的诉求", "the demand to merge into was not found", field="into_id")
    moved = services.demand_merge(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        into=into,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/comment", response={201: CommentOut})
def comment(request: HttpRequest, demand_id: int, payload: CommentIn) -> Status[Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    made = services.demand_comment(
        demand=demand,
        body=payload.body,
        visibility=payload.visibility,
        actor=request.user,  # type: ignore[arg-type]
    )
    return Status(201, made)


@router.get("/categories", response=list[CategoryOut])
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The active catalogue with its time limits, first level then its children."""
    rows = Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "code")
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "parent_code": c.parent.code if c.parent_id and c.parent else None,
            "default_department_id": c.default_department_id,
            "accept_hours_normal": c.accept_hours_normal,
            "accept_hours_urgent": c.accept_hours_urgent,
            "resolve_value_normal": c.resolve_value_normal,
            "resolve_value_urgent": c.resolve_value_urgent,
            "resolve_unit": c.resolve_unit,
        }
        for c in rows
    ]
