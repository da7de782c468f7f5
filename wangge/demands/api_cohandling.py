"""API routes of urging (督办/催办) and co-handling (协办), beside the demands router (config/api.py).

Reads go through the scoped selectors (a demand outside the caller's scope is 404), writes through
the services, errors in the one shape of core/api.py.
"""

# No `from __future__ import annotations` here: ninja reads the views' annotations at runtime.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import NotFound, ValidationFailed
from wangge.demands import assist_selectors, selectors, services
from wangge.demands.models import Demand, DemandAssist
from wangge.demands.schemas import AssistIn, AssistOut, AssistReplyIn, DemandOut, UrgeIn
from wangge.registry.models import Department

router = Router(tags=["demands"], auth=STAFF_AUTH)


@router.post("/demands/{demand_id}/urge", response=DemandOut)
def urge(request: HttpRequest, demand_id: int, payload: UrgeIn) -> Demand:
    """督办/催办: a level above the holder urges it; the holder's staff are pushed a message (409 when the same
    level urged it less than `DEMAND_URGE_MIN_HOURS` working hours ago)."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    services.demand_urge(demand=demand, actor=request.user, note=payload.note)  # type: ignore[arg-type]
    return selectors.demand_get(user=request.user, pk=demand_id)


@router.get("/demands/{demand_id}/assists", response=list[AssistOut])
def assists(request: HttpRequest, demand_id: int) -> QuerySet[DemandAssist]:
    """协办: the demand's co-handling tasks and their replies, oldest first."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    return assist_selectors.demand_assists(demand=demand)


@router.post("/demands/{demand_id}/assists", response={201: AssistOut})
def assist_add(request: HttpRequest, demand_id: int, payload: AssistIn) -> Status[Any]:
    """The holder adds an assisting department with its task; the demand resolves once every one replied."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed(_("choose a department"), field="department_id")
    made = services.demand_assist_add(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        department=department,
        task=payload.task,
        version=payload.version,
    )
    return Status(201, made)


@router.post("/demands/{demand_id}/assists/{assist_id}/reply", response=AssistOut)
def assist_reply(request: HttpRequest, demand_id: int, assist_id: int, payload: AssistReplyIn) -> DemandAssist:
    """Staff of the assisting department reply to its task, once (409 the second time)."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    assist = DemandAssist.objects.filter(pk=assist_id, demand=demand).first()
    if assist is None:
        raise NotFound(_("co-handling task not found"))
    return services.demand_assist_reply(assist=assist, actor=request.user, reply=payload.reply)  # type: ignore[arg-type]
