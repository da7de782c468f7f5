"""The visits API under /api/v1/: visits (list, log with opinions and a demand), opinions (list, follow-up), coverage.

Reads go through the scoped selectors, writes through the services; errors have the one shape of
core/api.py. Integrators' keys may not use these routes (visits are staff work).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import ValidationFailed
from wangge.registry.selectors import area_get, household_get
from wangge.visits import selectors, services
from wangge.visits.models import Opinion, Visit
from wangge.visits.schemas import (
    CoverageOut,
    FollowUpIn,
    OpinionOut,
    OpinionPage,
    VisitIn,
    VisitOut,
    VisitPage,
)

router = Router(tags=["visits"], auth=STAFF_AUTH)


def opinion_out(o: Opinion) -> dict[str, Any]:
    return {
        "id": o.pk,
        "visit_id": o.visit_id,
        "household_id": o.household_id,
        "text": o.text,
        "category": o.category,
        "state": o.state,
        "answer": o.answer,
        "answered_at": o.answered_at,
        "adopted_at": o.adopted_at,
        "created_at": o.created_at,
    }


def visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "visitor": str(v.visitor),
        "household_id": v.household_id,
        "household": str(v.household),
        "grid_id": v.grid_id,
        "grid_name": v.grid.name,
        "visited_at": v.visited_at,
        "how": v.how,
        "notes": v.notes,
        "demand_id": v.demand_id,
        "demand_code": v.demand.code if v.demand_id and v.demand else None,
        "opinions": [opinion_out(o) for o in v.opinions.all()],
        "created_at": v.created_at,
    }


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("分页游标无效", "the cursor is not valid", field="cursor") from None


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD", field=field) from None


def _page(qs: Any, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    qs = qs.order_by("-id")
    if cursor:
        qs = qs.filter(pk__lt=_decode_cursor(cursor))
    limit = max(1, min(limit, 200))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1].pk) if more and rows else None)


class VisitFilters(Schema):
    area_id: int | None = None
    household_id: int | None = None
    how: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    cursor: str | None = None
    limit: int = 50


@router.get("/visits", response=VisitPage)
def list_visits(request: HttpRequest, filters: Query[VisitFilters]) -> dict[str, Any]:
    """Visits in your scope, newest first; follow `next_cursor` for the next page."""
    user = request.user
    qs = selectors.visit_list(
        user=user,
        area=area_get(user=user, pk=filters.area_id) if filters.area_id else None,
        household=household_get(user=user, pk=filters.household_id) if filters.household_id else None,
        how=filters.how,
        date_from=_date(filters.date_from, "date_from"),
        date_to=_date(filters.date_to, "date_to"),
    )
    rows, nxt = _page(qs, filters.cursor, filters.limit)
    return {"items": [visit_out(v) for v in rows], "next_cursor": nxt}


@router.post("/visits", response={200: VisitOut, 201: VisitOut})
def log_visit(request: HttpRequest, payload: VisitIn) -> Status[dict[str, Any]]:
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
    return Status(200 if logged.replayed else 201, visit_out(selectors.visit_get(user=user, pk=logged.visit.pk)))


@router.get("/visits/coverage", response=CoverageOut)
def visit_coverage(request: HttpRequest, area_id: int | None = None, month: str | None = None) -> dict[str, Any]:
    """Households visited this month (or `month`, YYYY-MM) and never visited, for each area below `area_id`."""
    user = request.user
    parent = area_get(user=user, pk=area_id) if area_id else None
    day = _date(f"{month}-01", "month") if month else None
    cover = selectors.coverage(user=user, parent=parent, day=day)

    def row(r: selectors.CoverageRow) -> dict[str, Any]:
        return {
            "area_id": r.area.pk if r.area else None,
            "area_name": r.area.name if r.area else "",
            "level": r.area.level if r.area else "",
            "households": r.households,
            "visited_this_month": r.visited_this_month,
            "never_visited": r.never_visited,
            "percent": r.percent,
        }

    return {"month": f"{cover.month_start:%Y-%m}", "total": row(cover.total), "rows": [row(r) for r in cover.rows]}


@router.get("/visits/{visit_id}", response=VisitOut)
def get_visit(request: HttpRequest, visit_id: int) -> dict[str, Any]:
    return visit_out(selectors.visit_get(user=request.user, pk=visit_id))


class OpinionFilters(Schema):
    state: str | None = None
    category: str | None = None
    area_id: int | None = None
    cursor: str | None = None
    limit: int = 50


@router.get("/opinions", response=OpinionPage)
def list_opinions(request: HttpRequest, filters: Query[OpinionFilters]) -> dict[str, Any]:
    """Opinions heard in your scope, newest first."""
    user = request.user
    qs = selectors.opinion_list(
        user=user,
        state=filters.state,
        category=filters.category,
        area=area_get(user=user, pk=filters.area_id) if filters.area_id else None,
    )
    rows, nxt = _page(qs, filters.cursor, filters.limit)
    return {"items": [opinion_out(o) for o in rows], "next_cursor": nxt}


@router.post("/opinions/{opinion_id}/follow-up", response=OpinionOut)
def follow_up(request: HttpRequest, opinion_id: int, payload: FollowUpIn) -> dict[str, Any]:
    """Adopt an opinion or answer it (answering needs the answer given to the resident)."""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    moved = services.opinion_follow_up(
        opinion=opinion,
        actor=request.user,  # type: ignore[arg-type]
        state=payload.state,
        answer=payload.answer,
    )
    return opinion_out(moved)
