"""Facility directors API: facilities, inspections (scoped), recording an inspection, directors' records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.facilities import selectors, services
from wangge.facilities.models import Facility, FacilityDirector, Inspection
from wangge.facilities.schemas import (
    FacilityOut,
    FacilityTypeOut,
    InspectionIn,
    InspectionOut,
    MissedOut,
    RecordOut,
)

router = Router(tags=["facilities"], auth=STAFF_AUTH)


def _director(d: FacilityDirector) -> dict[str, Any]:
    return {
        "id": d.pk,
        "level": d.level,
        "name": d.name,
        "phone_masked": d.phone_masked,
        "user_id": d.user_id,
        "rule_count": d.rule_count,
        "rule_period": d.rule_period,
        "since": d.since,
        "is_active": d.is_active,
    }


def _facility(f: Facility, directors: list[FacilityDirector]) -> dict[str, Any]:
    return {
        "id": f.pk,
        "code": f.code,
        "name": f.name,
        "type_code": f.facility_type.code,
        "type_name": f.facility_type.name,
        "area_id": f.area_id,
        "area_name": f.area.name,
        "address": f.address,
        "lat": f.lat,
        "lng": f.lng,
        "open_hours": f.open_hours,
        "department": f.department.name if f.department else None,
        "last_inspected_at": getattr(f, "last_inspected_at", None),
        "last_result": getattr(f, "last_result", None),
        "open_demands": getattr(f, "open_demands", None) or 0,
        "state": selectors.facility_state(f),
        "directors": [_director(d) for d in directors],
    }


def _inspection(i: Inspection) -> dict[str, Any]:
    return {
        "id": i.pk,
        "facility_id": i.facility_id,
        "director_id": i.director_id,
        "director_name": i.director.name,
        "level": i.director.level,
        "at": i.at,
        "result": i.result,
        "note": i.note,
        "lat": i.lat,
        "lng": i.lng,
        "items": [
            {
                "code": item.checklist_item.code,
                "name": item.name,
                "passed": item.passed,
                "note": item.note,
                "demand_id": item.demand_id,
                "demand_code": item.demand.code if item.demand else None,
                "demand_reused": item.demand_reused,
                "photo_ids": [p.pk for p in item.photos.all()],
            }
            for item in selectors.inspection_items(i)
        ],
    }


@router.get("/facilities/types", response=list[FacilityTypeOut])
def list_types(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "name": t.name,
            "category_code": t.category_code,
            "checklist": [
                {"code": c.code, "name": c.name, "category_code": c.demand_category_code}
                for c in t.checklist.all()
                if c.is_active
            ],
        }
        for t in selectors.facility_types()
    ]


@router.get("/facilities", response=list[FacilityOut])
def list_facilities(
    request: HttpRequest,
    q: str = "",
    type: str | None = None,
    state: str | None = None,
    mine: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    rows = list(
        selectors.facility_list(user=request.user, q=q, type_code=type, state=state, mine=mine)[offset : offset + limit]
    )
    by_facility: dict[int, list[FacilityDirector]] = {}
    for d in FacilityDirector.objects.filter(facility__in=rows, is_active=True).order_by("id"):
        by_facility.setdefault(d.facility_id, []).append(d)
    return [_facility(f, by_facility.get(f.pk, [])) for f in rows]


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", "dates are written YYYY-MM-DD", field=field) from None


@router.get("/facilities/records", response=list[RecordOut])
def list_records(
    request: HttpRequest, since: str | None = None, until: str | None = None, level: str | None = None
) -> list[dict[str, Any]]:
    """Each visible director's record over complete periods in [since, until) (default: the last 90 days)."""
    until_d = _date(until, "until") or clock.today_local()
    since_d = _date(since, "since") or until_d - dt.timedelta(days=90)
    if since_d >= until_d or (until_d - since_d).days > 731:
        raise ValidationFailed("时间范围应在两年以内", "the window must be under two years", field="since")
    return [
        {
            "director_id": r.director.pk,
            "facility_id": r.director.facility_id,
            "facility_name": r.facility.name,
            "level": r.director.level,
            "name": r.director.name,
            "rule_count": r.director.rule_count,
            "rule_period": r.director.rule_period,
            "required": r.required,
            "done": r.done,
            "periods_met": r.periods_met,
            "on_time_rate": r.on_time_rate,
            "failures": r.failures,
            "demands_raised": r.demands_raised,
            "demands_resolved": r.demands_resolved,
            "missed": r.missed,
            "periods": [
                {"start": p.start, "end": p.end, "done": p.done, "required": p.required, "met": p.met}
                for p in r.periods
            ],
        }
        for r in selectors.director_records(user=request.user, since=since_d, until=until_d, level=level)
    ]


@router.get("/facilities/missed", response=list[MissedOut])
def list_missed(request: HttpRequest, limit: int = 100) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 500))
    return [
        {
            "id": m.pk,
            "facility_id": m.facility_id,
            "director_id": m.director_id,
            "period": m.period,
            "period_start": m.period_start,
            "period_end": m.period_end,
            "required": m.required,
            "done": m.done,
        }
        for m in selectors.missed_list(user=request.user)[:limit]
    ]


@router.get("/facilities/{facility_id}", response=FacilityOut)
def get_facility(request: HttpRequest, facility_id: int) -> dict[str, Any]:
    facility = selectors.facility_get(user=request.user, pk=facility_id)
    return _facility(facility, selectors.facility_directors(facility))


@router.get("/facilities/{facility_id}/inspections", response=list[InspectionOut])
def list_inspections(request: HttpRequest, facility_id: int, limit: int = 20) -> list[dict[str, Any]]:
    facility = selectors.facility_get(user=request.user, pk=facility_id)
    limit = max(1, min(limit, 200))
    return [_inspection(i) for i in selectors.inspection_list(user=request.user, facility=facility)[:limit]]


@router.post("/facilities/{facility_id}/inspections", response={201: InspectionOut})
def record_inspection(request: HttpRequest, facility_id: int, payload: InspectionIn) -> Status[dict[str, Any]]:
    """Record an inspection now; a failed item files (or comments on the open) demand. Photos go through the page."""
    facility = selectors.facility_get(user=request.user, pk=facility_id)
    director = None
    if payload.director_id is not None:
        director = next((d for d in selectors.facility_directors(facility) if d.pk == payload.director_id), None)
        if director is None:
            raise ValidationFailed(
                "所选所长不属于该设施", "that director does not direct this facility", field="director"
            )
    inspection = services.inspection_record(
        facility=facility,
        actor=request.user,  # type: ignore[arg-type]
        director=director,
        results=[item.dict() for item in payload.items],
        note=payload.note,
        lat=payload.lat,
        lng=payload.lng,
    )
    return Status(201, _inspection(selectors.inspection_get(user=request.user, pk=inspection.pk)))


@router.get("/facilities/inspections/{inspection_id}", response=InspectionOut)
def get_inspection(request: HttpRequest, inspection_id: int) -> dict[str, Any]:
    return _inspection(selectors.inspection_get(user=request.user, pk=inspection_id))
