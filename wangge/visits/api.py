"""The visits API under /api/v1/: visits (list, log with opinions and a demand), opinions (list, follow-up), coverage.

Reads go through the scoped selectors, writes through the services; errors have the one shape of
core/api.py. Integrators' keys may not use these routes (visits are staff work).
"""

# No `from __future__ import annotations` here: ninja's @paginate reads the views' annotations at runtime.
import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.api import IdCursorPagination
from wangge.core.errors import ValidationFailed
from wangge.registry.selectors import area_get, household_get
from wangge.visits import selectors, services
from wangge.visits.models import Opinion, Visit
from wangge.visits.schemas import (
    CoverageOut,
    FollowUpIn,
    OpinionListQuery,
    OpinionOut,
    VisitIn,
    VisitListQuery,
    VisitOut,
)

router = Router(tags=["visits"], auth=STAFF_AUTH)


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("dates are YYYY-MM-DD"), field=field) from None


@router.get("/visits", response=list[VisitOut])
@paginate(IdCursorPagination)
def list_visits(request: HttpRequest, filters: Query[VisitListQuery]) -> QuerySet[Visit]:
    """Visits in your scope, newest first; follow `next_cursor` for the next page."""
    user = request.user
    return selectors.visit_list(
        user=user,
        area=area_get(user=user, pk=filters.area_id) if filters.area_id else None,
        household=household_get(user=user, pk=filters.household_id) if filters.household_id else None,
        how=filters.how,
        date_from=_date(filters.date_from, "date_from"),
        date_to=_date(filters.date_to, "date_to"),
    )


@router.post("/visits", response={200: VisitOut, 201: VisitOut})
def log_visit(request: HttpRequest, payload: VisitIn) -> Status[Visit]:
    """Log a visit with its opinions and, optionally, the demand raised (one transaction). Send `Idempotency-Key`."""
    user = request.user
    household = household_get(user=user, pk=payload.household_id)
    raw_key = (request.headers.get("Idempotency-Key") or "").strip()
    logged = services.visit_log(
        visitor=user,  # type: ignore[arg-type]
        household=household,
        how=payload.how,
        notes=payload.notes,
        visited_at=payload.visited_at,
        opinions=[{"text": o.text, "category": o.category} for o in payload.opinions],
        demand=payload.demand.model_dump() if payload.demand is not None else None,
        # Keys are per user: another client's key must never hand back someone else's visit.
        idempotency_key=f"api:{user.pk}:{raw_key}" if raw_key else None,
    )
    return Status(200 if logged.replayed else 201, selectors.visit_get(user=user, pk=logged.visit.pk))


@router.get("/visits/coverage", response=CoverageOut)
def visit_coverage(request: HttpRequest, area_id: int | None = None, month: str | None = None) -> Any:
    """Households visited this month (or `month`, YYYY-MM) and never visited, for each area below `area_id`."""
    user = request.user
    parent = area_get(user=user, pk=area_id) if area_id else None
    day = _date(f"{month}-01", "month") if month else None
    return selectors.coverage(user=user, parent=parent, day=day)


@router.get("/visits/{visit_id}", response=VisitOut)
def get_visit(request: HttpRequest, visit_id: int) -> Visit:
    return selectors.visit_get(user=request.user, pk=visit_id)


@router.get("/opinions", response=list[OpinionOut])
@paginate(IdCursorPagination)
def list_opinions(request: HttpRequest, filters: Query[OpinionListQuery]) -> QuerySet[Opinion]:
    """Opinions heard in your scope, newest first."""
    user = request.user
    return selectors.opinion_list(
        user=user,
        state=filters.state,
        category=filters.category,
        area=area_get(user=user, pk=filters.area_id) if filters.area_id else None,
    )


@router.post("/opinions/{opinion_id}/follow-up", response=OpinionOut)
def follow_up(request: HttpRequest, opinion_id: int, payload: FollowUpIn) -> Opinion:
    """Adopt an opinion or answer it (answering needs the answer given to the resident)."""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    moved = services.opinion_follow_up(
        opinion=opinion,
        actor=request.user,  # type: ignore[arg-type]
        state=payload.state,
        answer=payload.answer,
    )
    return moved
