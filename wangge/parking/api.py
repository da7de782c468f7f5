"""Parking API for gates and wardens' apps: entries, exits (with the fee explained), lots, stays, occupancy."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.parking import selectors, services
from wangge.parking.schemas import (
    EntryOut,
    ExitOut,
    FeeLineOut,
    GateEventIn,
    LotOut,
    OccupancyOut,
    SessionOut,
    session_out,
)

router = Router(tags=["parking"], auth=STAFF_AUTH)


def _at(payload: GateEventIn) -> dt.datetime:
    if payload.at is None:
        return clock.now()
    if payload.at.tzinfo is None:
        raise ValidationFailed(_("'at' needs a time zone offset"), field="at")
    return payload.at


@router.post("/entries", response={200: EntryOut, 201: EntryOut})
def post_entry(request: HttpRequest, payload: GateEventIn) -> Status[EntryOut]:
    """A car entered. 201 the first time, 200 with the same stay when the event id was seen before."""
    lot = selectors.lot_for_recording(user=request.user, pk=payload.lot_id)
    result = services.parking_entry(
        lot=lot,
        plate=payload.plate,
        at=_at(payload),
        source=payload.source,
        event_id=payload.event_id,
        actor=request.user,
    )
    body = EntryOut(
        session=session_out(result.session, result.session.plate),
        created=result.created,
        occupancy=result.occupancy,
        capacity=result.capacity,
        over_capacity=result.over_capacity,
    )
    return Status(201 if result.created else 200, body)


@router.post("/exits", response={200: ExitOut, 201: ExitOut})
def post_exit(request: HttpRequest, payload: GateEventIn) -> Status[ExitOut] | HttpResponse:
    """A car left: the fee and its explanation. An exit with no entry answers 409 and is kept as an anomaly."""
    lot = selectors.lot_for_recording(user=request.user, pk=payload.lot_id)
    result = services.parking_exit(
        lot=lot,
        plate=payload.plate,
        at=_at(payload),
        source=payload.source,
        event_id=payload.event_id,
        actor=request.user,
    )
    error = result.error
    if error is not None:
        # Answered here, not raised: raising would roll back the anomaly we must keep.
        problem = error.as_dict() | {"anomaly_id": result.anomaly.pk if result.anomaly else None}
        return JsonResponse(problem, status=error.status, json_dumps_params={"ensure_ascii": False})
    session = result.session
    assert session is not None
    lines = (session.breakdown or {}).get("lines", [])
    body = ExitOut(
        session=session_out(session, session.plate),
        created=result.created,
        fee_fen=session.fee_fen or 0,
        fee_yuan=session.fee_yuan,
        explanation="；".join(line["text"] for line in lines),
        lines=[FeeLineOut(**line) for line in lines],
    )
    return Status(201 if result.created else 200, body)


@router.get("/lots", response=list[LotOut])
def list_lots(request: HttpRequest, zone: str | None = None) -> list[LotOut]:
    """Lots in the caller's scope with cars parked now and today's turnover."""
    selectors.require_parking(user=request.user)
    return [
        LotOut(
            id=lot.pk,
            name=lot.name,
            kind=lot.kind,
            zone=lot.zone,
            capacity=lot.capacity,
            occupied=lot.occupied,  # type: ignore[attr-defined]
            today_sessions=lot.today_sessions,  # type: ignore[attr-defined]
            today_turnover=lot.today_turnover,  # type: ignore[attr-defined]
            area_id=lot.area_id,
            area_name=lot.area.name,
            operator_id=lot.operator_id,
            tariff_id=lot.tariff_id,
            tariff_name=lot.tariff.name,
            address=lot.address,
            lat=lot.lat,
            lng=lot.lng,
        )
        for lot in selectors.lots_with_live_figures(user=request.user, zone=zone)
    ]


@router.get("/sessions", response=list[SessionOut])
def list_sessions(
    request: HttpRequest, lot_id: int | None = None, state: str | None = None, limit: int = 100
) -> list[SessionOut]:
    """Stays in the caller's scope, newest first; plates whole only for the staff responsible for the lot."""
    selectors.require_parking(user=request.user)
    lot = selectors.lot_get(user=request.user, pk=lot_id) if lot_id else None
    limit = max(1, min(limit, 1000))
    rows = selectors.session_list(user=request.user, lot=lot, state=state)[:limit]
    full: dict[int, bool] = {}
    out = []
    for s in rows:
        if s.lot_id not in full:
            full[s.lot_id] = selectors.shows_full_plates(user=request.user, lot=s.lot)
        out.append(
            session_out(s, selectors.plate_for(user=request.user, lot=s.lot, plate=s.plate, full=full[s.lot_id]))
        )
    return out


@router.get("/occupancy", response=OccupancyOut)
def occupancy(request: HttpRequest, lot_id: int, day: dt.date | None = None) -> OccupancyOut:
    """Cars parked now and the hour-by-hour average of a day (today by default)."""
    lot = selectors.lot_get(user=request.user, pk=lot_id)
    day = day or clock.today_local()
    hours = selectors.hourly_occupancy(user=request.user, lot=lot, day=day)
    return OccupancyOut(
        lot_id=lot.pk,
        capacity=lot.capacity,
        occupied=selectors.occupancy_now(lot=lot),
        day=day,
        hours=hours,  # type: ignore[arg-type]
    )
