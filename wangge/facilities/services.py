"""The only writers of facilities: types, facilities, directors, inspections and missed-inspection flags.

Each function is keyword-only and atomic; refusals are bilingual `WanggeError`s naming the field, and
nothing is half-written. A failed checklist item files a demand through `demand_submit` (channel
"inspection") in the same transaction as the inspection, so an inspection never exists without the
demand its failure raised, and a repeated failure of an item whose demand is still open comments on
that demand instead of filing another.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, render_both
from wangge.core.phones import clean_phone
from wangge.core.text import Listed, Said, capped_text
from wangge.facilities import rules
from wangge.facilities.models import (
    LEVEL_ORDER,
    ChecklistItem,
    DirectorLevel,
    Facility,
    FacilityDirector,
    FacilityType,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    MissedInspection,
    Result,
    RulePeriod,
)
from wangge.registry.models import Area, Department, Level

MAX_NOTE = 500
MAX_PHOTOS_PER_ITEM = 3


# --- types and facilities -------------------------------------------------------------------


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


def _told(message: Any, params: Mapping[str, Any]) -> str:
    """`message` in Chinese: demands filed, comments, notes and notifications are written in Chinese."""
    return render_both(message, params)[0]


def _inspector(director: FacilityDirector) -> Any:
    """The director's level and name ("保洁员李梅"), rendered in the language of the message around it."""
    params = {"level": DirectorLevel(director.level).label, "name": director.name}
    return Said(*render_both(_("%(level)s %(name)s"), params))


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
    if (lat is None) != (lng is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)):  # type: ignore[operator]
        raise ValidationFailed(_("the location is not a valid point"), field="location")
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


# --- inspections ----------------------------------------------------------------------------


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


def _point(lat: Any, lng: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        raise ValidationFailed(_("the location is not a valid point"), field="location") from None
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise ValidationFailed(_("the location is not a valid point"), field="location")
    return lat_f, lng_f


def _open_demands(facility: Facility) -> dict[int, Any]:
    """Checklist item id → the still-open demand an earlier failure of it at this facility raised (one query)."""
    from wangge.demands.models import OPEN_STATES

    rows = (
        InspectionItem.objects.filter(
            inspection__facility=facility, demand__isnull=False, demand__state__in=OPEN_STATES
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
    photos: Iterable[Any] = (),
    at: dt.datetime | None = None,
) -> Inspection:
    """Record one inspection over the whole checklist; each failed item raises (or re-uses) one open demand.

    Every active checklist item needs a result. A failed item whose demand from an earlier failure
    is still open gets a comment on that demand, not a second demand; a passed item whose demand is
    still open is noted on the inspection (only the holder closes a demand).
    """
    from wangge.core.photos import clean_photo

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
    item_photos = {code: [clean_photo(p) for p in res.photos] for code, res in given.items()}
    visit_photos = [clean_photo(p) for p in photos if p is not None]
    lat_f, lng_f = _point(lat, lng)
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


# --- missed inspections ---------------------------------------------------------------------


def _staff_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat"))


def _recipient(director: FacilityDirector) -> tuple[str, str] | None:
    """(channel, recipient): the account by the staff channel, else the phone by SMS."""
    if director.user_id:
        return _staff_channel(), f"user:{director.user_id}"
    if director.phone:
        return "sms", director.phone
    return None


def _responsible_above(director: FacilityDirector) -> list[tuple[str, str]]:
    """The next level up that answers for the facility; above the bureau leader, the facility's town."""
    higher = LEVEL_ORDER[: LEVEL_ORDER.index(DirectorLevel(director.level))]
    above = (
        FacilityDirector.objects.filter(facility_id=director.facility_id, level__in=higher, is_active=True)
        .exclude(pk=director.pk)
        .select_related("user")
    )
    by_level = {d.level: d for d in above}
    for level in reversed(higher):
        found = by_level.get(level)
        target = _recipient(found) if found is not None else None
        if target is not None:
            return [target]
    facility = director.facility
    town = next(
        (a for a in Area.objects.filter(path__in=facility.area.ancestor_paths()) if a.level == Level.TOWN),
        facility.area,
    )
    return [(_staff_channel(), f"area:{town.code}")]


def _notify_missed(missed: MissedInspection) -> None:
    from wangge.notifications.services import outbox_enqueue

    director = missed.director
    facility = missed.facility
    span = (
        f"{missed.period_start:%m月%d日}"
        if missed.period == RulePeriod.DAY
        else (f"{missed.period_start:%m月%d日}–{missed.period_end - dt.timedelta(days=1):%m月%d日}")
    )
    subject = _told(_("Inspections missed: %(facility)s"), {"facility": facility.name})
    body = _told(
        _(
            "%(inspector)s inspected %(type)s '%(facility)s' %(done)s times in %(span)s; "
            "%(rule)s is required (%(required)s)."
        ),
        {
            "inspector": _inspector(director),
            "span": span,
            "type": facility.facility_type.name,
            "facility": facility.name,
            "done": missed.done,
            "rule": director.rule_label,
            "required": missed.required,
        },
    )
    targets: list[tuple[str, str]] = []
    own = _recipient(director)
    if own is not None:
        targets.append(own)
    targets.extend(_responsible_above(director))
    for channel, recipient in dict.fromkeys(targets):
        outbox_enqueue(
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            payload={"missed_inspection_id": missed.pk, "facility_id": facility.pk, "director_id": director.pk},
            kind="facility.missed_inspection",
            area_path=facility.area_path,
            dedupe_key=f"facility-missed:{missed.pk}:{recipient}"[:200],
        )


@dataclass
class MissedReport:
    """What one pass flagged, per period kind."""

    flagged: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.flagged.values())

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.flagged.items())


def inspection_flag_missed(*, now: dt.datetime) -> MissedReport:
    """Flag every active director who did fewer inspections than their rule in the last complete period.

    Calendar periods in Asia/Shanghai: yesterday for daily rules, last Monday–Sunday, last month. A
    director is judged only for a period that began on or after the day they took the facility. Each
    (director, period) is flagged once: a unique constraint makes a second pass, or a second worker
    racing this one, write nothing and tell nobody twice.
    """
    today = rules.local_date(now)
    report = MissedReport()
    for period in RulePeriod.values:
        start, end = rules.last_complete(today, period)
        directors = FacilityDirector.objects.filter(
            rule_period=period, is_active=True, facility__is_active=True, since__lte=start
        ).exclude(missed__period_start=start)
        done = dict(
            Inspection.objects.filter(
                director__in=directors, at__gte=rules.local_midnight(start), at__lt=rules.local_midnight(end)
            )
            .values("director_id")
            .annotate(n=Count("id"))
            .values_list("director_id", "n")
        )
        flagged = 0
        for director in directors.select_related("facility__facility_type", "facility__area", "user"):
            count = done.get(director.pk, 0)
            if count >= director.rule_count:
                continue
            if _flag_one(director=director, period=period, start=start, end=end, done=count, now=now):
                flagged += 1
        report.flagged[period] = flagged
    return report


@transaction.atomic
def _flag_one(
    *, director: FacilityDirector, period: str, start: dt.date, end: dt.date, done: int, now: dt.datetime
) -> bool:
    try:
        with transaction.atomic():
            missed = MissedInspection.objects.create(
                director=director,
                facility=director.facility,
                period=period,
                period_start=start,
                period_end=end,
                required=director.rule_count,
                done=done,
                area_path=director.facility.area_path,
                flagged_at=now,
            )
    except IntegrityError:
        return False  # another worker flagged it first
    _notify_missed(missed)
    return True


__all__ = [
    "ItemResult",
    "MissedReport",
    "director_assign",
    "facility_create",
    "facility_type_create",
    "inspection_flag_missed",
    "inspection_record",
]


def facilities_sweep() -> MissedReport:
    """The worker's pass (settings.WANGGE_WORKER_HOOKS, `manage.py facilities_sweep`): flag missed inspections now."""
    return inspection_flag_missed(now=clock.now())
