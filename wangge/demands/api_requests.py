"""The API of 延期 (extension) and 挂起 (suspension), on the demands router (/api/v1/):

- POST /demands/{id}/extend and /demands/{id}/suspend: the holder's requests (201, the request);
- POST /demands/{id}/extension/decide and /demands/{id}/suspension/decide: the level above decides the
  demand's pending request of that kind;
- POST /demands/{id}/resume: the clock of a suspended demand runs again;
- GET /demand-requests: the pending requests awaiting the caller's decision (待审批).

Reads are scoped (a demand outside the caller's scope is 404); writes go through `services.requests`.
"""

# No `from __future__ import annotations` here: ninja reads the views' annotations at runtime.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Status
from ninja.pagination import paginate

from wangge.core.api import IdCursorPagination
from wangge.core.errors import Conflict, ValidationFailed
from wangge.demands import request_selectors, selectors, services
from wangge.demands.api import router
from wangge.demands.models import Demand, DemandRequest, RequestKind
from wangge.demands.schemas import DecideIn, DemandOut, ExtendIn, RequestOut, SuspendIn, VersionIn
from wangge.demands.services.requests import pending_request


@router.post("/demands/{demand_id}/extend", response={201: RequestOut})
def extend(request: HttpRequest, demand_id: int, payload: ExtendIn) -> Status[DemandRequest]:
    """The holder asks the level above for a later deadline (延期)."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    made = services.demand_extension_request(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        until=payload.until,
        version=payload.version,
    )
    return Status(201, made)


@router.post("/demands/{demand_id}/suspend", response={201: RequestOut})
def suspend(request: HttpRequest, demand_id: int, payload: SuspendIn) -> Status[DemandRequest]:
    """The holder asks the level above to stop the clock (挂起)."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    made = services.demand_suspension_request(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        until=payload.until,
        version=payload.version,
    )
    return Status(201, made)


def _pending(request: HttpRequest, demand_id: int, kind: str, payload: DecideIn) -> DemandRequest:
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    if payload.approve is None:
        raise ValidationFailed(_("say whether you approve"), field="approve")
    found = pending_request(demand)  # one pending request per demand, of either kind
    if found is None or found.kind != kind:
        raise Conflict(_("no request of this kind waits for a decision on this demand"))
    return found


@router.post("/demands/{demand_id}/extension/decide", response=RequestOut)
def extension_decide(request: HttpRequest, demand_id: int, payload: DecideIn) -> DemandRequest:
    """The level above approves (the deadlines move) or refuses (with a note) the pending extension."""
    pending = _pending(request, demand_id, RequestKind.EXTENSION, payload)
    return services.demand_extension_decide(
        request=pending,
        actor=request.user,  # type: ignore[arg-type]
        approve=bool(payload.approve),
        note=payload.note,
    )


@router.post("/demands/{demand_id}/suspension/decide", response=RequestOut)
def suspension_decide(request: HttpRequest, demand_id: int, payload: DecideIn) -> DemandRequest:
    """The level above approves (the clock stops) or refuses (with a note) the pending suspension."""
    pending = _pending(request, demand_id, RequestKind.SUSPENSION, payload)
    return services.demand_suspension_decide(
        request=pending,
        actor=request.user,  # type: ignore[arg-type]
        approve=bool(payload.approve),
        note=payload.note,
    )


@router.post("/demands/{demand_id}/resume", response=DemandOut)
def resume(request: HttpRequest, demand_id: int, payload: VersionIn) -> Demand:
    """The holder or the level above lets the clock of a suspended demand run again."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    services.demand_resume(demand=demand, actor=request.user, version=payload.version)  # type: ignore[arg-type]
    return selectors.demand_get(user=request.user, pk=demand_id)


@router.get("/demand-requests", response=list[RequestOut])
@paginate(IdCursorPagination)
def requests_to_decide(request: HttpRequest) -> QuerySet[Any]:
    """Pending extensions and suspensions awaiting your decision (待审批), newest first."""
    return request_selectors.requests_to_decide(user=request.user)
