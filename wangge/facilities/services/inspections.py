"""Inspections (巡检) recorded by a facility's director.

A failed checklist item files a demand through `demand_submit` (channel "inspection") in the same
transaction as the inspection, so an inspection never exists without the demand its failure raised,
and a repeated failure of an item whose demand is still open comments on that demand instead of
filing another.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.core.text import Listed, capped_text
from wangge.facilities.models import (
    ChecklistItem,
    Facility,
    FacilityDirector,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    Result,
)
from wangge.facilities.services._common import _inspector, _told
from wangge.registry.models import Level
from wangge.registry.points import stored_point

MAX_NOTE = 500
MAX_PHOTOS_PER_ITEM = 3


@dataclass
class ItemResult:
    """What the inspector marked for one checklist item."""

    code: str
    passed: bool
    note: str = ""
    photos: list[Any] = field(default_factory=list)


def _as_result(raw: ItemResult | Mapping[str, Any]) -> ItemResult:
    if isinstance(raw, ItemResult):
        return raw
    passed = raw.get("passed")
    if isinstance(passed, str):
        passed = {"pass": True, "1": True, "true": True, "fail": False, "0": False, "false": False}.get(passed.lower())
    if not isinstance(passed, bool):
        raise ValidationFailed(
            _("checklist item '%(code)s': choose pass or fail"),
            params={"code": raw.get("code", "")},
            field=f"item_{raw.get('code', '')}",
        )
    return ItemResult(
        code=str(raw.get("code", "")),
        passed=passed,
        note=str(raw.get("note") or ""),
        photos=list(raw.get("photos") or []),
    )


def _director_for(facility: Facility, actor: User, director: FacilityDirector | None) -> FacilityDirector:
    """Directors inspect for themselves; staff of the area may record the check of a director without an account."""
    if director is None:
        own = list(FacilityDirector.objects.filter(facility=facility, user=actor, is_active=True))
        if len(own) == 1:
            return own[0]
        if len(own) > 1:
            raise ValidationFailed(
                _("you direct this facility at several levels; choose which one this inspection is for"),
                field="director",
            )
        raise PermissionDenied(_("only the facility's directors may record inspections"), field="director")
    if director.facility_id != facility.pk or not director.is_active:
        raise ValidationFailed(_("that director does not direct this facility"), field="director")
    if director.user_id == actor.pk:
        return director
    scope = scope_for(actor)
    on_behalf_ok = (
        director.user_id is None
        and actor.role not in (Role.DEPARTMENT, Role.INTEGRATION)
        and scope.covers_path(facility.area_path)
    )
    if not on_behalf_ok:
        raise PermissionDenied(
            _("you may record your own inspections, or those of a director without an account"),
            field="director",
        )
    return director


def _open_demands(facility: Facility) -> dict[int, Any]:
    """Checklist item id → the still-open demand an earlier failure of it at this facility raised (one query)."""
    from wangge.demands.models import UNFINISHED_STATES

    rows = (
        InspectionItem.objects.filter(
            inspection__facility=facility, demand__isnull=False, demand__state__in=UNFINISHED_STATES
        )
        .select_related("demand")
        .order_by("demand_id")
    )
    return {row.checklist_item_id: row.demand for row in rows}  # the latest demand wins per item


def _comment(demand: Any, body: str, actor: User) -> bool:
    """Comment on the demand as the inspector; False when they may not see it (the note stays on the inspection)."""
    from wangge.demands.services import demand_comment

    try:
        with transaction.atomic():
            demand_comment(demand=demand, body=body, visibility="staff", actor=actor)
    except (NotFound, PermissionDenied):
        return False
    return True


def _content(clean: Any) -> bytes:
    """The cleaned photo's bytes (its file was just read once to store it)."""
    clean.content.seek(0)
    return bytes(clean.content.read())


def _category_code(checklist_item: ChecklistItem) -> str | None:
    """The item's category when it exists and is active; otherwise none (triage may still suggest one)."""
    from wangge.demands.models import Category

    code = checklist_item.demand_category_code
    if code and Category.objects.filter(code=code, is_active=True).exists():
        return code
    return None


def _file_demand(
    *,
    facility: Facility,
    inspection: Inspection,
    item: InspectionItem,
    checklist_item: ChecklistItem,
    director: FacilityDirector,
    actor: User,
    photos: list[bytes],
) -> Any:
    from wangge.demands.services import MAX_TITLE, demand_submit

    ftype = facility.facility_type
    names = {"type": ftype.name, "facility": facility.name, "item": item.name, "note": item.note}
    if item.note:
        title = _told(_("%(type)s '%(facility)s' failed inspection: %(item)s (%(note)s)"), names)
    else:
        title = _told(_("%(type)s '%(facility)s' failed inspection: %(item)s"), names)
    when = inspection.at.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M")
    where = {"code": facility.code, "address": facility.address}
    at = _told(_("no. %(code)s, %(address)s"), where) if facility.address else _told(_("no. %(code)s"), where)
    description = _told(
        _(
            "%(inspector)s inspected %(type)s '%(facility)s' (%(at)s) at %(when)s: "
            "checklist item '%(item)s' failed. %(note)s"
        ),
        {**names, "inspector": _inspector(director), "when": when, "at": at},
    ).strip()
    args: dict[str, Any] = {
        "channel": "inspection",
        "kind": "report",
        "title": title[:MAX_TITLE],
        "description": description,
        "category": _category_code(checklist_item),
        "address": facility.address or facility.name,
        "reporter_name": director.name,
        # One inspection line files at most one demand, even when the request is retried.
        "idempotency_key": f"facility-inspection-item:{item.pk}",
        "reported_at": inspection.at,  # found then, whenever it reaches the system
    }

    def _files() -> list[ContentFile]:
        # Fresh files for each attempt: demand intake cleans (reads) what it is given.
        return [ContentFile(data, name=f"inspection-{item.pk}-{n}.jpg") for n, data in enumerate(photos, start=1)]

    if facility.area.level == Level.GRID:
        args["grid"] = facility.area
    else:
        args.update(area=facility.area, lat=facility.lat, lng=facility.lng)
    try:
        # The inspector files it; a director whose account cannot file in this area (say, a bureau
        # leader without an area scope) still raises it, as the system on their behalf.
        with transaction.atomic():
            return demand_submit(actor=actor, photos=_files(), **args).demand
    except PermissionDenied:
        return demand_submit(actor=None, photos=_files(), **args).demand


@transaction.atomic
def inspection_record(
    *,
    facility: Facility,
    actor: User,
    results: Iterable[ItemResult | Mapping[str, Any]],
    director: FacilityDirector | None = None,
    note: str = "",
    lat: Any = None,
    lng: Any = None,
    datum: str = "wgs84",
    photos: Iterable[Any] = (),
    at: dt.datetime | None = None,
) -> Inspection:
    """Record one inspection over the whole checklist; each failed item raises (or re-uses) one open demand.

    Every active checklist item needs a result. A failed item whose demand from an earlier failure
    is still open gets a comment on that demand, not a second demand; a passed item whose demand is
    still open is noted on the inspection (only the holder closes a demand).
    """
    from wangge.core.photos import check_pixel_budget, clean_photo

    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("sign in first"))
    if actor.role == Role.AUDITOR:
        raise PermissionDenied(_("auditors may only read"), code="read_only")
    if not facility.is_active:
        raise ValidationFailed(_("this facility is no longer in use"), field="facility")
    director = _director_for(facility, actor, director)
    checklist = {
        c.code: c for c in ChecklistItem.objects.filter(facility_type_id=facility.facility_type_id, is_active=True)
    }
    given: dict[str, ItemResult] = {}
    for raw in results:
        res = _as_result(raw)
        if res.code not in checklist:
            raise ValidationFailed(_("unknown checklist item: %(code)s"), params={"code": res.code}, field="items")
        if res.code in given:
            raise ValidationFailed(_("checklist item given twice: %(code)s"), params={"code": res.code}, field="items")
        if len(res.note) > MAX_NOTE:
            raise ValidationFailed(
                _("a note is longer than %(limit)s characters"), params={"limit": MAX_NOTE}, field=f"item_{res.code}"
            )
        if len(res.photos) > MAX_PHOTOS_PER_ITEM:
            raise ValidationFailed(
                _("at most %(count)s photos per checklist item"), params={"count": MAX_PHOTOS_PER_ITEM}, field="photos"
            )
        given[res.code] = res
    missing = [c.name for code, c in checklist.items() if code not in given]
    if missing:
        raise ValidationFailed(
            _("%(count)s checklist item(s) have no result yet: %(items)s"),
            params={"count": len(missing), "items": Listed(missing)},
            field="items",
        )
    # Clean every photo before writing anything: a bad file refuses the whole inspection.
    check_pixel_budget([p for res in given.values() for p in res.photos] + list(photos))  # before decoding any
    item_photos = {code: [clean_photo(p) for p in res.photos] for code, res in given.items()}
    visit_photos = [clean_photo(p) for p in photos if p is not None]
    lat_f, lng_f, datum_from = stored_point(lat, lng, datum)
    if lat_f is None:
        gps = next(
            ((p.lat, p.lng) for p in [*visit_photos, *itertools.chain(*item_photos.values())] if p.lat is not None),
            None,
        )
        if gps is not None:
            lat_f, lng_f = gps
    now = clock.now()
    when = at or now
    if when > now + dt.timedelta(minutes=5):
        raise ValidationFailed(_("an inspection cannot be in the future"), field="at")
    failed = any(not r.passed for r in given.values())
    inspection = Inspection.objects.create(
        facility=facility,
        director=director,
        recorded_by=actor,
        at=when,
        result=Result.FAIL if failed else Result.PASS,
        note=capped_text(note, 2000),
        lat=lat_f,
        lng=lng_f,
        location_datum=datum_from,
        area_path=facility.area_path,
        created_at=now,
    )
    inspector_label = _inspector(director)
    open_demands = _open_demands(facility)
    remarks: list[str] = []
    for code, checklist_item in sorted(checklist.items(), key=lambda kv: (kv[1].sort, kv[1].pk)):
        res = given[code]
        item = InspectionItem.objects.create(
            inspection=inspection,
            checklist_item=checklist_item,
            name=checklist_item.name,
            passed=res.passed,
            note=res.note.strip(),
        )
        for clean in item_photos[code]:
            InspectionPhoto.objects.create(inspection=inspection, item=item, image=clean.content, uploaded_at=now)
        open_demand = open_demands.get(checklist_item.pk)
        if res.passed:
            if open_demand is not None:
                item.demand, item.demand_reused = open_demand, True
                item.save(update_fields=["demand", "demand_reused"])
                said = {"item": item.name, "demand": open_demand.code, "inspector": inspector_label}
                remarks.append(_told(_("'%(item)s' passed this time; demand %(demand)s is still open"), said))
                _comment(
                    open_demand,
                    _told(_("%(inspector)s checked again: '%(item)s' passed this inspection."), said),
                    actor,
                )
            continue
        if open_demand is not None:
            item.demand, item.demand_reused = open_demand, True
            item.save(update_fields=["demand", "demand_reused"])
            said = {"item": item.name, "demand": open_demand.code, "inspector": inspector_label, "note": item.note}
            body = _told(_("%(inspector)s checked again, still failed: '%(item)s'. %(note)s"), said).strip()
            if not _comment(open_demand, body, actor):
                remarks.append(_told(_("'%(item)s' still failed; demand %(demand)s carries on"), said))
            continue
        demand = _file_demand(
            facility=facility,
            inspection=inspection,
            item=item,
            checklist_item=checklist_item,
            director=director,
            actor=actor,
            photos=[_content(c) for c in item_photos[code]],
        )
        item.demand = demand
        item.save(update_fields=["demand"])
    for clean in visit_photos:
        InspectionPhoto.objects.create(inspection=inspection, item=None, image=clean.content, uploaded_at=now)
    if remarks:
        inspection.note = "\n".join(filter(None, [inspection.note, *remarks]))
        inspection.save(update_fields=["note"])
    return inspection
