"""Facility types, facilities and their directors (设施负责人), set up by staff of the area."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.core.phones import clean_phone
from wangge.core.text import capped_text
from wangge.facilities.models import ChecklistItem, DirectorLevel, Facility, FacilityDirector, FacilityType, RulePeriod
from wangge.registry.models import Area, Department, Level
from wangge.registry.points import stored_point


@transaction.atomic
def facility_type_create(
    *,
    code: str,
    name: str,
    category_code: str,
    checklist: Iterable[str | tuple[str, str] | tuple[str, str, str]],
    sort: int = 100,
) -> FacilityType:
    """A facility type with its checklist (code, name[, own category]); codes unique within the type."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise ValidationFailed(_("a type needs a code and a name"), field="code")
    if FacilityType.objects.filter(code=code).exists():
        raise ValidationFailed(_("facility type code already exists: %(code)s"), params={"code": code}, field="code")
    ftype = FacilityType.objects.create(code=code, name=name, category_code=(category_code or "").strip(), sort=sort)
    seen: set[str] = set()
    for position, entry in enumerate(checklist, start=1):
        if isinstance(entry, str):
            item_code, item_name, item_category = f"i{position:02d}", entry, ""
        else:
            item_code, item_name, item_category = (*entry, "")[:3]  # type: ignore[assignment]
        if not item_name.strip() or item_code in seen:
            raise ValidationFailed(
                _("checklist entry %(position)s is empty or repeated"), params={"position": position}, field="checklist"
            )
        seen.add(item_code)
        ChecklistItem.objects.create(
            facility_type=ftype, code=item_code, name=item_name.strip(), category_code=item_category, sort=position * 10
        )
    return ftype


def _may_manage(actor: User | None, area: Area) -> None:
    """Facilities are set up by staff of the area (or city administrators); None is the seeding command."""
    if actor is None:
        return
    scope = scope_for(actor)
    if actor.role in (Role.AUDITOR, Role.DEPARTMENT, Role.INTEGRATION) or not scope.covers_path(area.path):
        raise PermissionDenied(_("only staff of the facility's area may manage it"), field="area")


@transaction.atomic
def facility_create(
    *,
    facility_type: FacilityType,
    name: str,
    code: str,
    area: Area,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    datum: str = "wgs84",
    department: Department | None = None,
    open_hours: str = "",
    actor: User | None = None,
) -> Facility:
    """A facility stands in a town, village or grid (never the whole city), so its demands route somewhere."""
    _may_manage(actor, area)
    name, code = (name or "").strip(), (code or "").strip()
    if not name:
        raise ValidationFailed(_("the facility needs a name"), field="name")
    if not code:
        raise ValidationFailed(_("the facility needs a code"), field="code")
    if Facility.objects.filter(code=code).exists():
        raise ValidationFailed(_("facility code already exists: %(code)s"), params={"code": code}, field="code")
    if area.level == Level.CITY:
        raise ValidationFailed(_("choose at least a town or street"), field="area", code="area_too_high")
    lat, lng, datum = stored_point(lat, lng, datum)
    now = clock.now()
    return Facility.objects.create(
        facility_type=facility_type,
        name=name[:100],
        code=code[:32],
        area=area,
        area_path=area.path,
        address=capped_text(address, 200),
        lat=lat,
        lng=lng,
        location_datum=datum,
        department=department,
        open_hours=capped_text(open_hours, 50),
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def director_assign(
    *,
    facility: Facility,
    level: str,
    rule_count: int,
    rule_period: str,
    user: User | None = None,
    name: str = "",
    phone: str = "",
    since: dt.date | None = None,
    actor: User | None = None,
) -> FacilityDirector:
    """One active director per facility and level: assigning a new one ends the previous one today."""
    _may_manage(actor, facility.area)
    if level not in DirectorLevel.values:
        raise ValidationFailed(_("unknown director level: %(level)s"), params={"level": level}, field="level")
    if rule_period not in RulePeriod.values:
        raise ValidationFailed(
            _("unknown inspection period: %(period)s"), params={"period": rule_period}, field="rule_period"
        )
    try:
        count = int(rule_count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 50:
        raise ValidationFailed(_("the inspection count must be 1–50"), field="rule_count")
    name = (name or "").strip() or (str(user) if user is not None else "")
    if not name:
        raise ValidationFailed(_("give the director's name or an account"), field="name")
    phone = clean_phone(phone or (user.phone if user is not None else ""), field="phone")
    today = clock.today_local()
    # Lock the facility row so two assignments at one level queue instead of both ending the old one.
    Facility.objects.select_for_update().filter(pk=facility.pk).first()
    FacilityDirector.objects.filter(facility=facility, level=level, is_active=True).update(
        is_active=False, ended_on=today
    )
    return FacilityDirector.objects.create(
        facility=facility,
        level=level,
        user=user,
        name=name[:50],
        phone=phone,
        rule_count=count,
        rule_period=rule_period,
        since=since or today,
        created_at=clock.now(),
    )
