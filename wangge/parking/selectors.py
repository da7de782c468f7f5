"""Reads of parking, every one scoped: lots in the user's areas or operated by their department.

Measures are computed by the database with aggregate queries (COUNT/SUM/AVG with filters, one
query per table of figures), never by looping over sessions in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import Scope, scope_for
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied
from wangge.parking.models import ParkingAnomaly, ParkingLot, ParkingSession, SessionState, Tariff, Zone
from wangge.parking.plates import mask_plate

# Roles that work with parking; grid leaders and party branches have no lots to look after.
PARKING_ROLES = (Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.CITY_ADMIN, Role.AUDITOR)


def half_up(value: float, places: int = 1) -> float:
    """Round the way people do (71.25 → 71.3), not to even."""
    step = Decimal(1).scaleb(-places)
    return float(Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP))


def parking_allowed(*, user: Any) -> bool:
    """Whether the user may open the parking pages at all (grid leaders may not)."""
    scope = scope_for(user)
    return scope.is_global or (scope.role in PARKING_ROLES and not scope.is_empty)


def require_parking(*, user: Any) -> Scope:
    if not parking_allowed(user=user):
        raise PermissionDenied(_("parking is not part of your role"))
    return scope_for(user)


def _lot_q(scope: Scope, prefix: str = "") -> Q:
    # Town and village staff by area, department staff by the lots their department operates.
    return scope.area_q(f"{prefix}area_path") | scope.department_q(f"{prefix}operator_id")


def lot_list(*, user: Any, zone: str | None = None, include_inactive: bool = False) -> QuerySet[ParkingLot]:
    """Lots the user may see, with tariff, area and operator joined."""
    scope = scope_for(user)
    if not parking_allowed(user=user):
        return ParkingLot.objects.none()
    qs = ParkingLot.objects.filter(_lot_q(scope)).select_related("tariff", "area", "operator")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if zone:
        qs = qs.filter(zone=zone)
    return qs.order_by("area_path", "name")


def lot_get(*, user: Any, pk: int) -> ParkingLot:
    """One lot in scope, or NotFound (what lies outside is never confirmed)."""
    require_parking(user=user)
    lot = lot_list(user=user, include_inactive=True).filter(pk=pk).first()
    if lot is None:
        raise NotFound(_("parking lot not found"))
    return lot


def can_record(*, user: Any, lot: ParkingLot) -> bool:
    """Wardens and gates record entries and exits in lots of their scope; auditors only read."""
    scope = scope_for(user)
    if scope.read_only or not parking_allowed(user=user):
        return False
    return scope.covers_path(lot.area_path) or scope.covers_department(lot.operator_id)


def lot_for_recording(*, user: Any, pk: int) -> ParkingLot:
    """A lot the user may record entries and exits in, or a clear refusal."""
    lot = lot_get(user=user, pk=pk)
    if not lot.is_active:
        raise PermissionDenied(_("this parking lot is no longer in use"), field="lot_id")
    if not can_record(user=user, lot=lot):
        raise PermissionDenied(_("you may read but not record entries and exits"))
    return lot


def shows_full_plates(*, user: Any, lot: ParkingLot) -> bool:
    """Whole plates only for the staff responsible for the lot; everyone else sees 湘A1**45."""
    return can_record(user=user, lot=lot)


def plate_for(*, user: Any, lot: ParkingLot, plate: str, full: bool | None = None) -> str:
    show = shows_full_plates(user=user, lot=lot) if full is None else full
    return plate if show else mask_plate(plate)


def session_list(
    *,
    user: Any,
    lot: ParkingLot | None = None,
    state: str | None = None,
    plate: str | None = None,
) -> QuerySet[ParkingSession]:
    """Sessions of lots in scope, newest first."""
    scope = scope_for(user)
    if not parking_allowed(user=user):
        return ParkingSession.objects.none()
    qs = ParkingSession.objects.filter(_lot_q(scope, "lot__")).select_related("lot")
    if lot is not None:
        qs = qs.filter(lot=lot)
    if state:
        qs = qs.filter(state=state)
    if plate:
        qs = qs.filter(plate=plate)
    return qs.order_by("-entered_at", "-id")


def anomaly_list(*, user: Any, lot: ParkingLot | None = None) -> QuerySet[ParkingAnomaly]:
    scope = scope_for(user)
    if not parking_allowed(user=user):
        return ParkingAnomaly.objects.none()
    qs = ParkingAnomaly.objects.filter(_lot_q(scope, "lot__")).select_related("lot")
    if lot is not None:
        qs = qs.filter(lot=lot)
    return qs.order_by("-at", "-id")


def tariff_list(*, user: Any) -> QuerySet[Tariff]:
    """Tariffs are city-wide price schedules: anyone who works with parking may read them."""
    if not parking_allowed(user=user):
        return Tariff.objects.none()
    return Tariff.objects.order_by("name")


# --- measures ---------------------------------------------------------------------------------


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of a calendar day in the display time zone (core.clock.local_tz), as aware datetimes."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=clock.local_tz())
    return start, start + dt.timedelta(days=1)


def lots_with_live_figures(*, user: Any, zone: str | None = None) -> list[ParkingLot]:
    """Lots with `occupied` (cars parked now), `today_sessions` and `today_revenue_fen`.

    Two queries: the lots, then one grouped aggregate over the stays that are open or touch
    today (grouping by the lot id alone, not by every column of the lots and their joins).
    """
    start, end = local_day_bounds(clock.today_local())
    lots = list(lot_list(user=user, zone=zone))
    rows = (
        ParkingSession.objects.filter(lot_id__in=[lot.pk for lot in lots])
        .filter(Q(state=SessionState.OPEN) | Q(entered_at__gte=start, entered_at__lt=end) | Q(exited_at__gte=start))
        .values("lot_id")
        .annotate(
            occupied=Count("id", filter=Q(state=SessionState.OPEN)),
            today_sessions=Count(
                "id", filter=Q(entered_at__gte=start, entered_at__lt=end) & ~Q(state=SessionState.VOID)
            ),
            today_revenue_fen=Sum(
                "fee_fen", filter=Q(state=SessionState.CLOSED, exited_at__gte=start, exited_at__lt=end)
            ),
        )
        .order_by()
    )
    by_lot = {r["lot_id"]: r for r in rows}
    for lot in lots:
        r = by_lot.get(lot.pk, {})
        lot.occupied = r.get("occupied", 0)  # type: ignore[attr-defined]
        lot.today_sessions = r.get("today_sessions", 0)  # type: ignore[attr-defined]
        lot.today_revenue_fen = r.get("today_revenue_fen") or 0  # type: ignore[attr-defined]
        lot.occupancy_pct = round(100 * lot.occupied / lot.capacity) if lot.capacity else 0  # type: ignore[attr-defined]
        lot.today_turnover = half_up(lot.today_sessions / lot.capacity, 2) if lot.capacity else 0  # type: ignore[attr-defined]
    return lots


def occupancy_now(*, lot: ParkingLot) -> int:
    """Cars parked in the lot now: its open stays (a count, so it can never fall below zero)."""
    return ParkingSession.objects.filter(lot=lot, state=SessionState.OPEN).count()


def hourly_occupancy(*, user: Any, lot: ParkingLot, day: dt.date) -> list[dict[str, Any]]:
    """For each hour of a local day: the average number of cars parked and the entries in that hour.

    Average occupancy is the parked car-minutes inside the hour divided by 60, summed by the
    database over the stays that overlap the hour (one query with 24 filtered sums). A stay
    still open counts up to now.
    """
    lot = lot_get(user=user, pk=lot.pk)
    start, _end = local_day_bounds(day)
    now = clock.now()
    hours = [start + dt.timedelta(hours=h) for h in range(25)]
    exit_or_now = Coalesce(F("exited_at"), Value(now, output_field=DateTimeField()))
    base = ParkingSession.objects.filter(lot=lot).exclude(state=SessionState.VOID)
    aggregates: dict[str, Any] = {}
    for h in range(24):
        h0, h1 = hours[h], hours[h + 1]
        overlap = Q(entered_at__lt=h1) & (Q(exited_at__gt=h0) | Q(exited_at__isnull=True))
        if h0 >= now:
            continue  # the future has no cars yet
        end_in_hour = Least(exit_or_now, Value(min(h1, now), output_field=DateTimeField()))
        start_in_hour = Greatest(F("entered_at"), Value(h0, output_field=DateTimeField()))
        aggregates[f"m{h}"] = Sum(
            ExpressionWrapper(end_in_hour - start_in_hour, output_field=DurationField()), filter=overlap
        )
        aggregates[f"e{h}"] = Count("id", filter=Q(entered_at__gte=h0, entered_at__lt=h1))
    row = base.aggregate(**aggregates) if aggregates else {}
    out = []
    for h in range(24):
        parked = row.get(f"m{h}")
        minutes = parked.total_seconds() / 60 if parked else 0.0
        avg = max(0.0, minutes / 60)
        out.append(
            {
                "hour": h,
                "avg_parked": round(avg, 2),
                "pct": round(100 * avg / lot.capacity, 1) if lot.capacity else 0.0,
                "entries": row.get(f"e{h}") or 0,
            }
        )
    return out


@dataclass
class Figures:
    """Measures of a lot, a zone or a day: sessions, turnover, average stay, revenue."""

    key: str
    label: str
    capacity: int = 0
    days: int = 1
    sessions: int = 0
    closed: int = 0
    avg_minutes: float | None = None
    revenue_fen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def turnover(self) -> float:
        """Sessions per space per day (泊位周转率)."""
        if not self.capacity or not self.days:
            return 0.0
        return half_up(self.sessions / (self.capacity * self.days), 2)

    @property
    def avg_fee_fen(self) -> int:
        return round(self.revenue_fen / self.closed) if self.closed else 0


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime, int]:
    """[start, end] inclusive local days → aware bounds and the number of days."""
    if end < start:
        start, end = end, start
    lo, _ = local_day_bounds(start)
    _, hi = local_day_bounds(end)
    return lo, hi, (end - start).days + 1


def _session_aggregates(lo: dt.datetime, hi: dt.datetime, prefix: str = "") -> dict[str, Any]:
    # Turnover counts stays that began in the period; revenue and stay length those that ended in it.
    p = prefix
    entered = Q(**{f"{p}entered_at__gte": lo, f"{p}entered_at__lt": hi}) & ~Q(**{f"{p}state": SessionState.VOID})
    ended = Q(**{f"{p}state": SessionState.CLOSED, f"{p}exited_at__gte": lo, f"{p}exited_at__lt": hi})
    return {
        "n_sessions": Count(f"{p}id" if p else "id", filter=entered),
        "n_closed": Count(f"{p}id" if p else "id", filter=ended),
        "avg_minutes": Avg(f"{p}minutes", filter=ended),
        "revenue": Coalesce(Sum(f"{p}fee_fen", filter=ended), 0),
    }


def measures_by_lot(
    *, user: Any, start: dt.date, end: dt.date, zone: str | None = None, lot: ParkingLot | None = None
) -> list[Figures]:
    """Per lot over [start, end]: sessions, turnover (per space per day), average stay, revenue."""
    lo, hi, days = period_bounds(start, end)
    qs = lot_list(user=user, zone=zone)
    if lot is not None:
        qs = qs.filter(pk=lot.pk)
    lots = list(qs)
    # Only stays that touch the period are read; the (lot, entered_at) and (lot, exited_at) indexes find them.
    rows = (
        ParkingSession.objects.filter(lot_id__in=[x.pk for x in lots])
        .filter(Q(entered_at__gte=lo, entered_at__lt=hi) | Q(exited_at__gte=lo, exited_at__lt=hi))
        .values("lot_id")
        .annotate(**_session_aggregates(lo, hi))
        .order_by()
    )
    by_lot = {r["lot_id"]: r for r in rows}
    out = []
    for x in lots:
        r = by_lot.get(x.pk, {})
        out.append(
            Figures(
                key=str(x.pk),
                label=x.name,
                capacity=x.capacity,
                days=days,
                sessions=r.get("n_sessions", 0),
                closed=r.get("n_closed", 0),
                avg_minutes=half_up(r["avg_minutes"]) if r.get("avg_minutes") is not None else None,
                revenue_fen=r.get("revenue", 0),
                extra={"lot": x},
            )
        )
    return out


def measures_by_zone(*, user: Any, start: dt.date, end: dt.date) -> list[Figures]:
    """Per pricing zone over [start, end]: the same figures, capacity summed over the zone's lots."""
    lo, hi, days = period_bounds(start, end)
    lots = lot_list(user=user)
    capacity = {r["zone"]: r["spaces"] for r in lots.values("zone").annotate(spaces=Sum("capacity")).order_by()}
    rows = (
        ParkingSession.objects.filter(lot__in=lots.values("pk"))
        .values("lot__zone")
        .annotate(**_session_aggregates(lo, hi))
        .order_by()
    )
    labels = dict(Zone.choices)
    by_zone = {r["lot__zone"]: r for r in rows}
    out = []
    for zone, spaces in sorted(capacity.items()):
        r = by_zone.get(zone, {})
        out.append(
            Figures(
                key=zone,
                label=str(labels.get(zone, zone)),
                capacity=spaces or 0,
                days=days,
                sessions=r.get("n_sessions", 0),
                closed=r.get("n_closed", 0),
                avg_minutes=half_up(r["avg_minutes"]) if r.get("avg_minutes") is not None else None,
                revenue_fen=r.get("revenue", 0),
            )
        )
    return out


def measures_by_day(
    *, user: Any, start: dt.date, end: dt.date, lot: ParkingLot | None = None, zone: str | None = None
) -> list[Figures]:
    """Per local day over [start, end] for one lot, a zone or all lots in scope (two grouped queries)."""
    lo, hi, days = period_bounds(start, end)
    lots = lot_list(user=user, zone=zone)
    if lot is not None:
        lots = lots.filter(pk=lot.pk)
    capacity = lots.aggregate(n=Sum("capacity"))["n"] or 0
    sessions = ParkingSession.objects.filter(lot__in=lots.values("pk"))
    entered = (
        sessions.filter(entered_at__gte=lo, entered_at__lt=hi)
        .exclude(state=SessionState.VOID)
        .annotate(day=TruncDate("entered_at", tzinfo=clock.local_tz()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    ended = (
        sessions.filter(state=SessionState.CLOSED, exited_at__gte=lo, exited_at__lt=hi)
        .annotate(day=TruncDate("exited_at", tzinfo=clock.local_tz()))
        .values("day")
        .annotate(n=Count("id"), avg=Avg("minutes"), revenue=Sum("fee_fen"))
        .order_by()
    )
    by_entry = {r["day"]: r["n"] for r in entered}
    by_exit = {r["day"]: r for r in ended}
    first = lo.astimezone(clock.local_tz()).date()
    out = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        e = by_exit.get(day, {})
        out.append(
            Figures(
                key=day.isoformat(),
                label=f"{day.month}月{day.day}日",
                capacity=capacity,
                days=1,
                sessions=by_entry.get(day, 0),
                closed=e.get("n", 0),
                avg_minutes=half_up(e["avg"]) if e.get("avg") is not None else None,
                revenue_fen=e.get("revenue") or 0,
            )
        )
    return out
