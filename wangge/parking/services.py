"""The only writers of parking: tariffs, lots, entries, exits and voids.

Gates retry: every entry and exit carries the sender's event id, and the same id applied twice
gives the first result back (idempotency per lot). The database backs the rules the services
check (one open stay per plate and lot, one stay per event id), so two racing gates cannot
break them either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed, WanggeError, render_both
from wangge.core.text import Listed, Said
from wangge.parking.fees import PeakWindow, Step, TariffRules, check_rules, fee_for, yuan
from wangge.parking.models import (
    AnomalyKind,
    LotKind,
    ParkingAnomaly,
    ParkingLot,
    ParkingSession,
    SessionState,
    Source,
    Tariff,
    Zone,
)
from wangge.parking.plates import clean_plate
from wangge.registry.models import Area, Department, Level
from wangge.registry.points import stored_point

# A gate's clock may run a little ahead of ours; more than this is a wrong time, not drift.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _local(at: dt.datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _when(at: dt.datetime) -> Said:
    """A time in an error: local minutes for Chinese readers, the ISO instant in English (as sent by gates)."""
    return Said(_local(at), at.isoformat())


# --- tariffs and lots -------------------------------------------------------------------------


@transaction.atomic
def tariff_save(
    *,
    rules: TariffRules,
    valid_from: dt.date,
    tariff: Tariff | None = None,
    name: str | None = None,
    is_active: bool = True,
    notes: str = "",
) -> Tariff:
    """Create or change a tariff; only a whole, consistent fee schedule is saved (check_rules)."""
    check_rules(rules)
    name = (name or rules.name or "").strip()
    if not name:
        raise ValidationFailed(_("the tariff needs a name"), field="name")
    clash = Tariff.objects.filter(name=name)
    if tariff is not None:
        clash = clash.exclude(pk=tariff.pk)
    if clash.exists():
        raise Conflict(_("a tariff named '%(name)s' exists"), params={"name": name}, field="name")
    tariff = tariff or Tariff()
    tariff.name = name
    tariff.free_minutes = rules.free_minutes
    tariff.free_deducted = rules.free_deducted
    tariff.steps = [s.as_dict() for s in rules.steps]
    tariff.day_cap_fen = rules.day_cap_fen
    tariff.peak_windows = [w.as_dict() for w in rules.peak_windows]
    tariff.peak_multiplier_pct = rules.peak_multiplier_pct
    tariff.peak_steps = [s.as_dict() for s in rules.peak_steps]
    tariff.night_start = rules.night_start
    tariff.night_end = rules.night_end
    tariff.night_fen_per_hour = rules.night_fen_per_hour
    tariff.valid_from = valid_from
    tariff.is_active = is_active
    tariff.notes = notes
    tariff.save()
    return tariff


def rules_from(
    *,
    steps: list[Step],
    free_minutes: int = 0,
    free_deducted: bool = False,
    day_cap_fen: int | None = None,
    peak_windows: list[PeakWindow] | None = None,
    peak_multiplier_pct: int = 100,
    peak_steps: list[Step] | None = None,
    night_start: dt.time | None = None,
    night_end: dt.time | None = None,
    night_fen_per_hour: int | None = None,
    name: str = "",
) -> TariffRules:
    """TariffRules from keyword parts (forms, the demo and tests build tariffs the same way)."""
    return TariffRules(
        steps=tuple(steps),
        free_minutes=free_minutes,
        free_deducted=free_deducted,
        day_cap_fen=day_cap_fen,
        peak_windows=tuple(peak_windows or ()),
        peak_multiplier_pct=peak_multiplier_pct,
        peak_steps=tuple(peak_steps or ()),
        night_start=night_start,
        night_end=night_end,
        night_fen_per_hour=night_fen_per_hour,
        name=name,
    )


@transaction.atomic
def lot_create(
    *,
    name: str,
    kind: str,
    capacity: int,
    area: Area,
    tariff: Tariff,
    zone: str = Zone.ORDINARY,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    datum: str = "wgs84",
    operator: Department | None = None,
) -> ParkingLot:
    """A lot lies in a town or village (its scope) and has at least one space and a tariff."""
    lot = ParkingLot(name=name, kind=kind, capacity=capacity, area=area, tariff=tariff, zone=zone)
    return _lot_apply(lot, address=address, lat=lat, lng=lng, datum=datum, new_point=True, operator=operator)


@transaction.atomic
def lot_update(*, lot: ParkingLot, **changes: Any) -> ParkingLot:
    """Change a lot's details; the same checks as on creation, and its area path follows its area."""
    allowed = {
        "name",
        "kind",
        "capacity",
        "area",
        "tariff",
        "zone",
        "address",
        "lat",
        "lng",
        "datum",
        "operator",
        "is_active",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(_("cannot change %(fields)s"), params={"fields": Listed(sorted(unknown))})
    for key in ("name", "kind", "capacity", "area", "tariff", "zone"):
        if key in changes:
            setattr(lot, key, changes.pop(key))
    if "is_active" in changes:
        lot.is_active = bool(changes.pop("is_active"))
    return _lot_apply(
        lot,
        address=changes.get("address", lot.address),
        lat=changes.get("lat", lot.lat),
        lng=changes.get("lng", lot.lng),
        datum=changes.get("datum", "wgs84"),
        # A point not given again is kept as stored (converted when it came, with its datum).
        new_point=bool({"lat", "lng", "datum"} & set(changes)),
        operator=changes.get("operator", lot.operator),
    )


def _lot_apply(
    lot: ParkingLot,
    *,
    address: str,
    lat: float | None,
    lng: float | None,
    datum: str = "wgs84",
    new_point: bool = True,
    operator: Department | None,
) -> ParkingLot:
    lot.name = (lot.name or "").strip()
    if not lot.name:
        raise ValidationFailed(_("the lot needs a name"), field="name")
    if lot.kind not in LotKind.values:
        raise ValidationFailed(_("unknown kind of lot"), field="kind")
    if lot.zone not in Zone.values:
        raise ValidationFailed(_("unknown zone"), field="zone")
    if not lot.capacity or lot.capacity <= 0:
        raise ValidationFailed(_("a lot needs at least one space"), field="capacity")
    if lot.area.level not in (Level.TOWN, Level.VILLAGE):
        raise ValidationFailed(_("a lot belongs to a town or a village"), field="area")
    if ParkingLot.objects.filter(area=lot.area, name=lot.name).exclude(pk=lot.pk).exists():
        raise Conflict(
            _("'%(name)s' already exists in %(area)s"), params={"name": lot.name, "area": lot.area.name}, field="name"
        )
    lot.address = address
    if new_point:
        lot.lat, lot.lng, lot.location_datum = stored_point(lat, lng, datum)
    lot.operator = operator
    lot.area_path = lot.area.path
    lot.save()
    return lot


# --- entries and exits ------------------------------------------------------------------------


@dataclass
class EntryResult:
    session: ParkingSession
    created: bool  # False: the same event id was applied before, this is its first result
    occupancy: int
    capacity: int

    @property
    def over_capacity(self) -> bool:
        return self.session.over_capacity


@dataclass
class ExitResult:
    session: ParkingSession | None
    anomaly: ParkingAnomaly | None
    created: bool

    @property
    def error(self) -> WanggeError | None:
        """The bilingual error for an exit that matched no stay (it has been recorded as an anomaly)."""
        if self.anomaly is None:
            return None
        a = self.anomaly
        return Conflict(
            _("no entry of %(plate)s found at '%(lot)s'; recorded as anomaly #%(id)s for review"),
            params={"plate": a.plate, "lot": a.lot.name, "id": a.pk},
            field="plate",
            code="exit_without_entry",
        )


def _check_source(source: str) -> None:
    if source not in Source.values:
        raise ValidationFailed(_("source must be gate or warden"), field="source")


def _check_event_id(event_id: str) -> str:
    event_id = (event_id or "").strip()
    if not event_id or len(event_id) > 64:
        raise ValidationFailed(_("event_id must be 1 to 64 characters"), field="event_id")
    return event_id


def _check_time(at: dt.datetime, field: str) -> None:
    if at.tzinfo is None:
        raise ValidationFailed(_("the time must carry a time zone"), field=field)
    if at > clock.now() + CLOCK_SKEW:
        raise ValidationFailed(_("%(time)s is in the future"), params={"time": _when(at)}, field=field)


@transaction.atomic
def parking_entry(
    *,
    lot: ParkingLot,
    plate: str,
    at: dt.datetime,
    source: str,
    event_id: str,
    actor: Any = None,
) -> EntryResult:
    """Open a stay: once per event id, never twice for a plate in one lot; a full lot still lets the car in, flagged."""
    plate = clean_plate(plate)
    _check_source(source)
    event_id = _check_event_id(event_id)
    _check_time(at, "at")
    # Lock the lot row: entries to one lot queue here, so the occupancy count below is exact.
    locked = ParkingLot.objects.select_for_update().get(pk=lot.pk)
    if not locked.is_active:
        raise PermissionDenied(_("this parking lot is no longer in use"), field="lot_id")
    # One read answers both questions: was this event applied before, is the plate parked here now?
    found = list(
        ParkingSession.objects.filter(lot=locked).filter(
            Q(entry_event_id=event_id) | Q(plate=plate, state=SessionState.OPEN)
        )[:2]
    )
    previous = next((s for s in found if s.entry_event_id == event_id), None)
    if previous is not None:
        if previous.plate != plate:
            raise Conflict(
                _("event id %(event_id)s was used for another plate, %(plate)s"),
                params={"event_id": event_id, "plate": previous.plate},
                field="event_id",
            )
        return EntryResult(previous, False, _occupancy(locked), locked.capacity)
    parked = next((s for s in found if s.plate == plate and s.state == SessionState.OPEN), None)
    if parked is not None:
        raise Conflict(
            _("%(plate)s is parked in '%(lot)s' since %(time)s; record its exit first"),
            params={"plate": plate, "lot": locked.name, "time": _when(parked.entered_at)},
            field="plate",
            code="already_parked",
        )
    occupancy = _occupancy(locked)
    session = ParkingSession(
        lot=locked,
        plate=plate,
        entered_at=at,
        source=source,
        entry_event_id=event_id,
        state=SessionState.OPEN,
        over_capacity=occupancy >= locked.capacity,  # cars do get in; the flag tells the warden
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError:
        # Lost a race with the same event id or plate on a database without row locks: answer as a retry would.
        again = ParkingSession.objects.filter(lot=locked, entry_event_id=event_id, plate=plate).first()
        if again is None:
            raise Conflict(
                _("%(plate)s is already parked"), params={"plate": plate}, field="plate", code="already_parked"
            ) from None
        return EntryResult(again, False, _occupancy(locked), locked.capacity)
    return EntryResult(session, True, occupancy + 1, locked.capacity)


def _occupancy(lot: ParkingLot) -> int:
    return ParkingSession.objects.filter(lot=lot, state=SessionState.OPEN).count()


@transaction.atomic
def parking_exit(
    *,
    lot: ParkingLot,
    plate: str,
    at: dt.datetime,
    source: str,
    event_id: str,
    actor: Any = None,
) -> ExitResult:
    """Close the plate's stay and charge it by the lot's tariff; an exit with no entry is kept as an anomaly."""
    plate = clean_plate(plate)
    _check_source(source)
    event_id = _check_event_id(event_id)
    _check_time(at, "at")
    locked = ParkingLot.objects.select_for_update().select_related("tariff").get(pk=lot.pk)
    done = ParkingSession.objects.filter(lot=locked, exit_event_id=event_id).first()
    if done is not None:
        if done.plate != plate:
            raise Conflict(
                _("event id %(event_id)s was used for another plate, %(plate)s"),
                params={"event_id": event_id, "plate": done.plate},
                field="event_id",
            )
        return ExitResult(done, None, False)
    seen = ParkingAnomaly.objects.filter(lot=locked, event_id=event_id).select_related("lot").first()
    if seen is not None:
        return ExitResult(None, seen, False)
    session = (
        ParkingSession.objects.select_for_update().filter(lot=locked, plate=plate, state=SessionState.OPEN).first()
    )
    if session is None:
        # Kept, not refused: a gate that missed an entry is a fact the operator must look into.
        anomaly = ParkingAnomaly.objects.create(
            lot=locked,
            kind=AnomalyKind.EXIT_WITHOUT_ENTRY,
            plate=plate,
            at=at,
            source=source,
            event_id=event_id,
            # The anomaly's note is stored in Chinese, whatever language the recording page uses.
            message=render_both(_("%(plate)s left without a recorded entry"), {"plate": plate})[0],
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        return ExitResult(None, anomaly, True)
    if at < session.entered_at:
        raise ValidationFailed(
            _("exit %(exit)s is before entry %(entry)s"),
            params={"exit": _when(at), "entry": _when(session.entered_at)},
            field="at",
        )
    breakdown = fee_for(locked.tariff, session.entered_at, at)
    # Conditional UPDATE on the open state: two exits of one stay give exactly one charge.
    closing = {
        "state": SessionState.CLOSED,
        "exited_at": at,
        "minutes": breakdown.minutes,
        "fee_fen": breakdown.total_fen,
        "breakdown": breakdown.as_dict(),
        "exit_source": source,
        "exit_event_id": event_id,
        "closed_by": actor if getattr(actor, "pk", None) else None,
    }
    changed = ParkingSession.objects.filter(pk=session.pk, state=SessionState.OPEN).update(**closing)
    if not changed:
        raise Conflict(_("someone else recorded this exit first"), field="plate")
    for name, value in closing.items():
        setattr(session, name, value)
    return ExitResult(session, None, True)


@transaction.atomic
def parking_session_void(*, session: ParkingSession, reason: str, actor: Any = None) -> ParkingSession:
    """Void a stay recorded in error (wrong plate, test car): it leaves occupancy, turnover and revenue."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("give the reason for voiding"), field="reason")
    changed = (
        ParkingSession.objects.filter(pk=session.pk)
        .exclude(state=SessionState.VOID)
        .update(
            state=SessionState.VOID, void_reason=reason[:200], closed_by=actor if getattr(actor, "pk", None) else None
        )
    )
    if not changed:
        raise Conflict(_("this stay is already void"))
    session.refresh_from_db()
    return session


def fee_text(session: ParkingSession) -> str:
    """The fee with its explanation, one line of Chinese, for receipts and messages."""
    if session.fee_fen is None:
        return ""
    lines = [line["text"] for line in session.explanation]
    return f"应收 {yuan(session.fee_fen)} 元：" + "；".join(lines)
