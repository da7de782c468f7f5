"""The demands API under /api/v1/: intake with Idempotency-Key, scoped reads, one route per staff move.

Every read goes through the scoped selectors; every write through the services. A stale
`version` (or a lost race) answers 409 in the one error shape of core/api.py.
"""

# No `from __future__ import annotations` here: ninja's @paginate reads the views' annotations at runtime.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.accounts.models import User
from wangge.core.api import IdCursorPagination
from wangge.core.errors import NotFound, ValidationFailed
from wangge.demands import selectors, services
from wangge.demands.models import Category, Channel, Demand
from wangge.demands.schemas import (
    CallBackIn,
    CallBackOut,
    CategoryOut,
    CommentIn,
    CommentOut,
    DemandCreatedOut,
    DemandIn,
    DemandListQuery,
    DemandOut,
    DispatchIn,
    EscalateIn,
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


@router.post("/demands", response={200: DemandCreatedOut, 201: DemandCreatedOut})
def create_demand(request: HttpRequest, payload: DemandIn) -> Status[Demand]:
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
        datum=payload.datum,
        address=payload.address,
        actor=user,  # type: ignore[arg-type]
        idempotency_key=key,
        publish_consent=payload.publish_consent,
        confidential=payload.confidential,
    )
    demand, replayed = submitted.demand, submitted.replayed
    if replayed:
        demand = selectors.demand_get(user=user, pk=demand.pk)  # the first one, read in the caller's scope
    return Status(200 if replayed else 201, demand)


@router.get("/demands", response=list[DemandOut])
@paginate(IdCursorPagination)
def list_demands(request: HttpRequest, filters: Query[DemandListQuery]) -> QuerySet[Demand]:
    """Demands in your scope, newest first; follow `next_cursor` for the next page."""
    found = selectors.DemandFilter.from_params(filters.dict(), user=request.user, strict=True)
    return selectors.demand_list(user=request.user, filters=found)


@router.get("/demands/{demand_id}", response=DemandOut)
def get_demand(request: HttpRequest, demand_id: int) -> Demand:
    return selectors.demand_get(user=request.user, pk=demand_id)


@router.get("/demands/{demand_id}/events", response=list[EventOut])
def demand_events(request: HttpRequest, demand_id: int) -> QuerySet[Any]:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    return selectors.demand_timeline(demand=demand)


def _moved(request: HttpRequest, demand: Demand) -> Demand:
    return selectors.demand_get(user=request.user, pk=demand.pk)


@router.post("/demands/{demand_id}/accept", response=DemandOut)
def accept(request: HttpRequest, demand_id: int, payload: VersionIn) -> Demand:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    return _moved(request, services.demand_accept(demand=demand, actor=request.user, version=payload.version))  # type: ignore[arg-type]


@router.post("/demands/{demand_id}/resolve", response=DemandOut)
def resolve(request: HttpRequest, demand_id: int, payload: ResolveIn) -> Demand:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_resolve(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        result=payload.result,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/escalate", response=DemandOut)
def escalate(request: HttpRequest, demand_id: int, payload: EscalateIn) -> Demand:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_escalate(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        public=payload.public,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/dispatch", response=DemandOut)
def dispatch(request: HttpRequest, demand_id: int, payload: DispatchIn) -> Demand:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    department = Department.objects.filter(pk=payload.department_id, is_active=True).first()
    if department is None:
        raise ValidationFailed("找不到该部门", "department not found", field="department_id")
    moved = services.demand_dispatch(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        department=department,
        note=payload.note,
        public=payload.public,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/return", response=DemandOut)
def return_(request: HttpRequest, demand_id: int, payload: ReturnIn) -> Demand:
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
        public=payload.public,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/reassign", response=DemandOut)
def reassign(request: HttpRequest, demand_id: int, payload: ReassignIn) -> Demand:
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
def reject(request: HttpRequest, demand_id: int, payload: ReasonIn) -> Demand:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_reject(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        version=payload.version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/merge", response=DemandOut)
def merge(request: HttpRequest, demand_id: int, payload: MergeIn) -> Demand:
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


@router.post("/demands/{demand_id}/call-back", response={201: CallBackOut})
def call_back(request: HttpRequest, demand_id: int, payload: CallBackIn) -> Status[Any]:
    """Record a call back (回访) on a resolved demand; "not solved" or "unsatisfied" reopens it."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    call = services.demand_call_back(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reached=payload.reached,
        solved=payload.solved,
        satisfaction=payload.satisfaction,
        note=payload.note,
        version=payload.version,
    )
    return Status(201, call)


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
def categories(request: HttpRequest) -> QuerySet[Category]:
    """The active catalogue with its time limits, first level then its children."""
    return Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "code")


# The case rules add their routes to this router from modules of their own (this one stays short).
from wangge.demands import api_requests, api_verification  # noqa: E402, F401
