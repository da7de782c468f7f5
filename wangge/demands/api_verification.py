"""API routes of verification before closing (核查), on the demands router (docs/api.md):

- `POST /demands/{id}/verify`: multipart form, `photos` (one or more files, required), `note`, `version`;
- `POST /demands/{id}/verify-back`: JSON `{reason, version}`;
- `GET /verify-queue`: the demands waiting for the caller to verify them (待核查), cursor-paginated
  (not under `/demands/`, where the next segment is a demand id).

Imported by `demands/api.py` after its own routes, so that these attach to the same router.
"""

# No `from __future__ import annotations` here: ninja reads the views' annotations at runtime.
from typing import Annotated

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import File, Form, UploadedFile
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from wangge.core.api import IdCursorPagination
from wangge.demands import selectors, services
from wangge.demands.api import _moved, router
from wangge.demands.models import Demand
from wangge.demands.schemas import DemandOut, ReasonIn
from wangge.demands.verify_queue import verify_queue


@router.get("/verify-queue", response=list[DemandOut])
@paginate(IdCursorPagination)
def verification_queue(request: HttpRequest) -> QuerySet[Demand]:
    """Demands waiting for you to verify them on site (grid leaders of their grid, supervisors of their area)."""
    return verify_queue(user=request.user).order_by("-id")


@router.post("/demands/{demand_id}/verify", response=DemandOut)
def verify(
    request: HttpRequest,
    demand_id: int,
    note: Form[str] = "",
    # A form field cannot carry null: absent means "no check", so the published type is a plain integer.
    version: Annotated[int | None, WithJsonSchema({"type": "integer", "minimum": 1})] = Form(None),
    photos: list[UploadedFile] = File(None),  # type: ignore[assignment]  # noqa: B008
) -> Demand:
    """Confirm on site (核查通过) with at least one photo: the demand is resolved and the resident asked to rate it."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_verify(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        photos=photos or [],
        note=note,
        version=version,
    )
    return _moved(request, moved)


@router.post("/demands/{demand_id}/verify-back", response=DemandOut)
def verify_back(request: HttpRequest, demand_id: int, payload: ReasonIn) -> Demand:
    """Send it back to the same holder to be done again (退回重办), with the reason they read."""
    demand = selectors.demand_get(user=request.user, pk=demand_id)
    moved = services.demand_verify_back(
        demand=demand,
        actor=request.user,  # type: ignore[arg-type]
        reason=payload.reason,
        version=payload.version,
    )
    return _moved(request, moved)
