"""Intake: one demand from any channel (resident page, staff, hotline, visit, inspection, API).

Every channel calls `demand_submit`; it validates, routes, sets the time limits, numbers the
demand and tells the holder and the resident, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.demands import codes, routing, sla
from wangge.demands.models import ActorKind, Channel, Demand, DemandEvent, Kind, State, Urgency
from wangge.demands.permissions import is_staff
from wangge.demands.services._common import (
    MAX_TITLE,
    _choice,
    _clean_photos,
    _note_calendar_gap,
    _required_text,
    _save_photos,
    in_chinese,
    one_by,
)
from wangge.demands.services.category import _resolve_category, _suggest
from wangge.demands.services.notify import _holder_recipients, _tell_arrival, _tell_resident
from wangge.demands.transitions import Move
from wangge.notifications.services import outbox_batch
from wangge.registry.models import Area, Department, Household, Level
from wangge.registry.points import stored_point


@dataclass(frozen=True)
class SubmitResult:
    """What intake gives back: the demand, and whether it is an earlier one found by its idempotency key."""

    demand: Demand
    replayed: bool


def _resolve_grid(grid: Any) -> Area | None:
    if grid in (None, ""):
        return None
    if isinstance(grid, Area):
        return grid
    # Not its boundary: intake never reads it, and a grid's polygon is most of the row.
    found = one_by(Area, code=grid, level=Level.GRID, skip={"boundary"})
    if found is None:
        raise ValidationFailed(_("unknown micro-grid"), field="grid")
    return found


def _float_or_none(value: Any, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("the location is not a valid point"), field=field) from None


def _actor_may_file(actor: User, area: Area) -> bool:
    scope = scope_for(actor)
    if scope.is_global or scope.covers_path(area.path):
        return True
    # Department staff file what their inspectors find anywhere in their department's city.
    if scope.department_ids:
        paths = Department.objects.filter(pk__in=scope.department_ids).values_list("area_path", flat=True)
        return any(area.path.startswith(p) for p in paths)
    return False


def demand_submit(
    *,
    channel: str,
    title: str,
    description: str,
    kind: str = "help",
    category: Any = None,
    urgency: str = "normal",
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_wechat_openid: str = "",
    household: Household | None = None,
    grid: Any = None,
    area: Area | None = None,
    lat: float | None = None,
    lng: float | None = None,
    datum: str = "wgs84",
    address: str = "",
    photos: Iterable[Any] = (),
    actor: User | None = None,
    idempotency_key: str | None = None,
    reported_at: dt.datetime | None = None,
    publish_consent: bool = False,
    confidential: bool = False,
) -> SubmitResult:
    """Take in one demand from any channel: validate, route, time-limit, number it, tell the holder.

    `publish_consent`: the reporter agreed to publish their own words (redacted; `demands.public`).
    `confidential` (保密): the reporter asked that it stay with its holders (`permissions.is_confidential`);
    it outweighs a consent to publish.
    A repeated `idempotency_key` gives back the first demand with `replayed=True`, even when two
    requests with one key race: on SQLite the unique key lets one in; on PostgreSQL, where the key is
    unique only with the month (partitions), the statement that numbers the demand claims the key
    first (`codes.number`), so the second waits for the first to commit and finds it. Either way the
    other's transaction (or savepoint, inside a caller's transaction) rolls back whole, its number
    too, and it answers with the first. A first request, the common case, pays no extra statement.
    """
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 128:
        raise ValidationFailed(_("Idempotency-Key is longer than 128 characters"), field="idempotency_key")
    try:
        with transaction.atomic():
            return _submit(
                channel=channel,
                title=title,
                description=description,
                kind=kind,
                category=category,
                urgency=urgency,
                reporter_name=reporter_name,
                reporter_phone=reporter_phone,
                reporter_wechat_openid=reporter_wechat_openid,
                household=household,
                grid=grid,
                area=area,
                lat=lat,
                lng=lng,
                datum=datum,
                address=address,
                photos=photos,
                actor=actor,
                key=key,
                reported_at=reported_at,
                publish_consent=publish_consent,
                confidential=confidential,
            )
    except _KeyTaken as taken:
        return SubmitResult(demand=Demand.objects.get(pk=taken.demand_id), replayed=True)
    except IntegrityError:
        existing = Demand.objects.filter(idempotency_key=key).first() if key is not None else None
        if existing is None:
            raise
        return SubmitResult(demand=existing, replayed=True)


class _KeyTaken(Exception):
    """Raised inside intake's transaction to roll it back: another demand holds the idempotency key."""

    def __init__(self, demand_id: int) -> None:
        self.demand_id = demand_id


def _submit(
    *,
    channel: str,
    title: str,
    description: str,
    kind: str,
    category: Any,
    urgency: str,
    reporter_name: str,
    reporter_phone: str,
    reporter_wechat_openid: str,
    household: Household | None,
    grid: Any,
    area: Area | None,
    lat: float | None,
    lng: float | None,
    datum: str,
    address: str,
    photos: Iterable[Any],
    actor: User | None,
    key: str | None,
    reported_at: dt.datetime | None,
    publish_consent: bool,
    confidential: bool,
) -> SubmitResult:
    """Intake inside its transaction; the writes are ordered so the city's code counter is taken last."""
    _choice(channel, Channel, field="channel")
    _choice(kind, Kind, field="kind")
    _choice(urgency, Urgency, field="urgency")
    description = _required_text(description, field="description", label="description")
    title = (title or "").strip() or description.splitlines()[0][:40]
    if len(title) > MAX_TITLE:
        raise ValidationFailed(
            _("title is longer than %(limit)s characters"), params={"limit": MAX_TITLE}, field="title"
        )
    from wangge.core.phones import clean_phone

    phone = clean_phone(reporter_phone, field="reporter_phone", required=channel == Channel.RESIDENT_WEB)
    reporter_name = (reporter_name or "").strip()[:50]
    address = (address or "").strip()[:300]
    chosen_category = _resolve_category(category)
    grid_area = _resolve_grid(grid)
    lat_f, lng_f = _float_or_none(lat, "location"), _float_or_none(lng, "location")
    routing.check_point(lat_f, lng_f)
    # Kept in WGS-84 like every stored point, so lists, maps and nearness compare like with like.
    lat_f, lng_f, source_datum = stored_point(lat_f, lng_f, datum)
    staff_actor = is_staff(actor)
    if actor is not None and staff_actor and actor.role == Role.AUDITOR:
        raise PermissionDenied(_("auditors may only read"), code="read_only")
    cleaned = _clean_photos(photos)

    # A photo's GPS helps only when nothing better routes it; a wrong phone clock or GPS must not
    # refuse a report that a resident placed on a list.
    photo_point = next(((p.lat, p.lng) for p in cleaned if p.lat is not None and p.lng is not None), None)
    if lat_f is None and photo_point is not None and household is None and grid_area is None and area is None:
        try:
            routing.area_for_point(*photo_point)  # a camera's GPS is WGS-84
            lat_f, lng_f = photo_point
        except ValidationFailed:
            pass
    target = routing.route(household=household, grid=grid_area, area=area, lat=lat_f, lng=lng_f, address=address)

    if actor is not None and staff_actor and not _actor_may_file(actor, target):
        raise PermissionDenied(
            _("you may not file demands for an area outside your scope"),
            field="area",
        )

    suggestion = _suggest(title, description, known=chosen_category)
    if chosen_category is None and suggestion is not None and suggestion.auto_apply:
        chosen_category = suggestion.category

    now = clock.now()
    limits, gap_years = sla.deadlines_and_fallback(category=chosen_category, urgency=urgency, start=now)
    demand = Demand(
        tracking_token=codes.new_tracking_token(),
        kind=kind,
        channel=channel,
        category=chosen_category,
        urgency=urgency,
        title=title,
        description=description,
        address=address,
        lat=lat_f,
        lng=lng_f,
        location_datum=source_datum,
        reporter_name=reporter_name,
        reporter_phone=phone,
        reporter_wechat_openid=(reporter_wechat_openid or "").strip()[:64],
        household=household,
        area=target,
        area_path=target.path,
        holder_area=target,
        holder_path=target.path,
        holder_level=target.level,
        state=State.SUBMITTED,
        version=1,
        reported_at=reported_at or now,
        highest_level=target.level,
        idempotency_key=key,
        suggested_category=suggestion.category if suggestion else None,
        suggestion_confidence=suggestion.confidence if suggestion else None,
        created_by=actor if staff_actor else None,
        created_at=now,
        updated_at=now,
        case_due_at=limits["resolve_due_at"],
        publish_consent=bool(publish_consent) and not confidential,
        confidential=bool(confidential),
        **limits,
    )
    codes.provisional(demand)
    demand.save(force_insert=True)
    if channel in (Channel.RESIDENT_WEB, Channel.WECHAT) and not staff_actor:
        actor_kind = ActorKind.RESIDENT
    else:
        actor_kind = ActorKind.STAFF if staff_actor else ActorKind.SYSTEM
    event = DemandEvent.objects.create(
        demand=demand,
        at=now,
        actor=actor if staff_actor else None,
        actor_kind=actor_kind,
        action=Move.SUBMIT.value,
        from_state="",
        to_state=State.SUBMITTED,
        from_holder="",
        to_holder=target.name[:100],
        note="",
        is_public=True,
    )
    _note_calendar_gap(demand, gap_years, now)
    _save_photos(demand, cleaned, event=event, by_resident=not staff_actor)
    recipients = _holder_recipients(demand)
    # The messages are written under the provisional code (on PostgreSQL); `number` gives them the code.
    with outbox_batch() as told:
        _tell_arrival(demand, event, why=in_chinese(_("New demand")), recipients=recipients)
        _tell_resident(
            demand,
            body=in_chinese(
                _("Your demand is registered as %(code)s; %(holder)s will handle it."),
                {"code": demand.code, "holder": target.name},
            ),
            kind="submitted",
            key="submitted",
        )
    # Last: the day's counter row is locked from here to commit (codes.py), so nothing else comes after it.
    taken = codes.number(demand, idempotency_key=key, messages=[m.pk for m in told if m.pk is not None])
    if taken is not None:
        raise _KeyTaken(taken)
    return SubmitResult(demand=demand, replayed=False)
