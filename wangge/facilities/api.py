"""Facility directors API: facilities, inspections (scoped), recording an inspection, directors' records."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core import clock
from wangge.core.api import offset_slice
from wangge.core.errors import ValidationFailed
from wangge.facilities import selectors, services
from wangge.facilities.models import Facility, FacilityType, Inspection, MissedInspection
from wangge.facilities.schemas import (
    FacilityOut,
    FacilityTypeOut,
    InspectionIn,
    InspectionOut,
    MissedOut,
    RecordOut,
)

router = Router(tags=["facilities"], auth=STAFF_AUTH)


@router.get("/facilities/types", response=list[FacilityTypeOut])
def list_types(request: HttpRequest) -> QuerySet[FacilityType]:
    return selectors.facility_types()


@router.get("/facilities", response=list[FacilityOut])
def list_facilities(
    request: HttpRequest,
    q: str = "",
    type: str | None = None,
    state: str | None = None,
    mine: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Facility]:
    found = selectors.facility_list(user=request.user, q=q, type_code=type, state=state, mine=mine)
    rows = list(found[offset_slice(offset=offset, limit=limit, max_limit=500)])
    return selectors.with_active_directors(rows)


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("dates are written YYYY-MM-DD"), field=field) from None


@router.get("/facilities/records", response=list[RecordOut])
def list_records(
    request: HttpRequest, since: str | None = None, until: str | None = None, level: str | None = None
) -> list[selectors.DirectorRecord]:
    """Each visible director's record over complete periods in [since, until) (default: the last 90 days)."""
    until_d = _date(until, "until") or clock.today_local()
    since_d = _date(since, "since") or until_d - dt.timedelta(days=90)
    if since_d >= until_d or (until_d - since_d).days > 731:
        raise ValidationFailed(_("the window must be under two years"), field="since")
    return selectors.director_records(user=request.user, since=since_d, until=until_d, level=level)


@router.get("/facilities/missed", response=list[MissedOut])
def list_missed(request: HttpRequest, limit: int = 100) -> list[MissedInspection]:
    limit = max(1, min(limit, 500))
    return list(selectors.missed_list(user=request.user)[:limit])


@router.get("/facilities/{facility_id}", response=FacilityOut)
def get_facility(request: HttpRequest, facility_id: int) -> Facility:
    return selectors.facility_get(user=request.user, pk=facility_id)


@router.get("/facilities/{facility_id}/inspections", response=list[InspectionOut])
def list_inspections(request: HttpRequest, facility_id: int, limit: int = 20) -> list[Inspection]:
    facility = selectors.facility_get(user=request.user, pk=facility_id)
    limit = max(1, min(limit, 200))
    return list(selectors.inspection_list(user=request.user, facility=facility)[:limit])


@router.post("/facilities/{facility_id}/inspections", response={201: InspectionOut})
def record_inspection(request: HttpRequest, facility_id: int, payload: InspectionIn) -> Status[Inspection]:
    """Record an inspection now; a failed item files (or comments on the open) demand. Photos go through the page."""
    facility = selectors.facility_get(user=request.user, pk=facility_id)
    director = None
    if payload.director_id is not None:
        director = next((d for d in selectors.facility_directors(facility) if d.pk == payload.director_id), None)
        if director is None:
            raise ValidationFailed(_("that director does not direct this facility"), field="director")
    inspection = services.inspection_record(
        facility=facility,
        actor=request.user,  # type: ignore[arg-type]
        director=director,
        results=[item.dict() for item in payload.items],
        note=payload.note,
        lat=payload.lat,
        lng=payload.lng,
        datum=payload.datum,
    )
    return Status(201, selectors.inspection_get(user=request.user, pk=inspection.pk))


@router.get("/facilities/inspections/{inspection_id}", response=InspectionOut)
def get_inspection(request: HttpRequest, inspection_id: int) -> Inspection:
    return selectors.inspection_get(user=request.user, pk=inspection_id)
