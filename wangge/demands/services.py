"""The only writers of demands: intake, every move, and the worker's automatic moves.

Each move: the demand is read afresh, the acting user must hold it (area level exactly, or the
department), the table in transitions.py must allow the move, and the change is applied by a
conditional UPDATE on (pk, state, version). Two people acting at once therefore give one winner
and one `Conflict`. The event row and the outbox rows are written in the same transaction, so a
move is never half-made and nobody is told of a move that did not happen.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from wangge.accounts.models import ROLE_LEVEL, Role, User, UserScope
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.hooks import setting_callable
from wangge.core.text import clean_text
from wangge.demands import codes, routing, sla
from wangge.demands.models import (
    FINAL_STATES,
    OPEN_STATES,
    WAITING_STATES,
    ActorKind,
    Category,
    Channel,
    Demand,
    DemandComment,
    DemandEvent,
    DemandFollower,
    DemandPhoto,
    Kind,
    Satisfaction,
    State,
    Urgency,
    Visibility,
    WarningLevel,
)
from wangge.demands.selectors import visible_q
from wangge.demands.transitions import STAFF_MOVES, IllegalMove, Move, allowed_moves, next_state
from wangge.registry.models import LEVEL_DEPTH, Area, Department, Household, Level

log = logging.getLogger("wangge.demands")

STATE_ZH = {
    "submitted": "待受理",
    "in_progress": "办理中",
    "escalated": "已上报",
    "resolved": "已办结",
    "closed": "已关闭",
    "rejected": "已驳回",
    "merged": "已合并",
    "reopened": "已返工",
}
MOVE_ZH = {
    "submit": "提交",
    "accept": "受理",
    "resolve": "办结",
    "escalate": "上报",
    "dispatch": "派发部门",
    "return_": "退回下级",
    "reassign": "转交",
    "reject": "驳回",
    "merge": "合并",
    "reopen": "返工",
    "rate": "评价",
    "comment": "留言",
    "add_info": "补充信息",
    "close": "关闭",
    "auto_escalate": "超时自动上报",
    "warn": "预警",
    "follow": "关注",
    "recategorise": "确定类别",
}
LEVEL_ZH = {"city": "市", "town": "乡镇(街道)", "village": "村(社区)", "branch": "党支部", "grid": "微网格"}
SATISFACTION_ZH = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}

MAX_TITLE = 200
MAX_TEXT = 5000


# --- small helpers ------------------------------------------------------------------------


def _required_text(value: str | None, *, field: str, zh: str, en: str, limit: int = MAX_TEXT) -> str:
    return clean_text(value, field=field, zh=zh, en=en, limit=limit, required=True)


def _reload(demand: Demand | int) -> Demand:
    pk = demand if isinstance(demand, int) else demand.pk
    try:
        return Demand.objects.select_related("holder_area", "holder_department", "area", "category").get(pk=pk)
    except Demand.DoesNotExist:
        raise NotFound("找不到该诉求", "demand not found") from None


def _level_index(level: str) -> int:
    return LEVEL_DEPTH.get(level, 99)


def _higher(a: str, b: str) -> str:
    """The higher of two levels (city is highest)."""
    if not a:
        return b
    if not b:
        return a
    return a if _level_index(a) <= _level_index(b) else b


def _is_staff(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _token_ok(demand: Demand, token: str | None) -> bool:
    # Constant-time: a wrong token takes as long to refuse as a nearly right one.
    return bool(token) and hmac.compare_digest(str(demand.tracking_token).encode(), str(token).encode())


def can_see(*, demand: Demand, user: Any) -> bool:
    return _is_staff(user) and Demand.objects.filter(visible_q(user), pk=demand.pk).exists()


def can_hold(*, demand: Demand, user: Any) -> bool:
    """True when `user` is staff of the holding level (exactly that area, at that level) or department."""
    if not _is_staff(user) or user.role == Role.AUDITOR:
        return False
    scope = scope_for(user)
    if demand.holder_department_id:
        return user.role == Role.DEPARTMENT and demand.holder_department_id in scope.department_ids
    if not demand.holder_path or user.role == Role.DEPARTMENT:
        return False
    return ROLE_LEVEL.get(user.role) == demand.holder_level and demand.holder_path in scope.area_paths


def _require_holder(demand: Demand, actor: Any, version: int | None = None) -> None:
    # A stale version is a lost race first: the holder may have changed because someone else moved it.
    if version is not None and int(version) != demand.version:
        raise Conflict(
            "诉求已被他人更新，请刷新后重试",
            "the demand was changed by someone else; reload it and try again",
        )
    if not can_hold(demand=demand, user=actor):
        raise PermissionDenied(
            f"只有当前承办方（{demand.holder_label}）才能处理该诉求",
            "only the current holder of this demand may act on it",
            code="not_holder",
        )


def _holder_changes(area: Area) -> dict[str, Any]:
    return {
        "holder_area": area,
        "holder_path": area.path,
        "holder_level": area.level,
        "holder_department": None,
        "holder_user": None,
    }


def _fresh_deadlines(demand: Demand, now: dt.datetime, *, accept: bool = True) -> dict[str, Any]:
    """New limits for a new holder (or a reopened demand): the clock restarts from now."""
    limits = sla.deadlines(category=demand.category, urgency=demand.urgency, start=now)
    values: dict[str, Any] = {
        "resolve_due_at": limits["resolve_due_at"],
        "yellow_at": limits["yellow_at"],
        "warning": WarningLevel.NONE,
    }
    if accept:
        values["accept_due_at"] = limits["accept_due_at"]
    return values


def _target(demand: Demand, move: Move, facts: dict[str, Any] | None = None) -> str:
    """The state the table gives; a move the current state does not allow is a lost race (Conflict)."""
    try:
        return next_state(demand.state, move, holder_kind=demand.holder_kind or "grid", **(facts or {}))
    except IllegalMove:
        raise Conflict(
            f"诉求当前状态为「{STATE_ZH.get(demand.state, demand.state)}」，不能{MOVE_ZH.get(move.value, move.value)}",
            f"this demand is {demand.state}; it cannot take the move {move.value} now",
        ) from None


def _apply(
    *,
    demand: Demand,
    move: Move,
    actor: Any = None,
    actor_kind: str = ActorKind.STAFF,
    version: int | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
    is_public: bool = True,
    facts: dict[str, Any] | None = None,
    bump: bool = True,
    extra_filter: dict[str, Any] | None = None,
    record_as: Move | None = None,
    follower: DemandFollower | None = None,
) -> tuple[Demand, DemandEvent]:
    """Apply one move: table check, conditional UPDATE on (pk, state, version), event row."""
    state = demand.state
    target = _target(demand, move, facts)
    if version is not None and int(version) != demand.version:
        raise Conflict(
            "诉求已被他人更新，请刷新后重试",
            "the demand was changed by someone else; reload it and try again",
        )
    now = clock.now()
    values: dict[str, Any] = {**(changes or {}), "state": target, "updated_at": now}
    if bump:
        values["version"] = F("version") + 1
    updated = Demand.objects.filter(pk=demand.pk, state=state, version=demand.version, **(extra_filter or {})).update(
        **values
    )
    if not updated:
        raise Conflict(
            "诉求已被他人处理，请刷新后重试",
            "someone else changed this demand first; reload it and try again",
        )
    from_holder = demand.holder_label
    fresh = _reload(demand.pk)
    event = DemandEvent.objects.create(
        demand=fresh,
        at=now,
        actor=actor if _is_staff(actor) else None,
        actor_kind=actor_kind,
        action=(record_as or move).value,
        from_state=state,
        to_state=target,
        from_holder=from_holder[:100],
        to_holder=fresh.holder_label[:100],
        note=note,
        is_public=is_public,
        follower=follower,
    )
    return fresh, event


def _note_event(
    demand: Demand,
    *,
    action: str,
    note: str,
    actor: Any = None,
    actor_kind: str = ActorKind.STAFF,
    is_public: bool = False,
    follower: DemandFollower | None = None,
    at: dt.datetime | None = None,
) -> DemandEvent:
    """An event that records something about a demand without moving it (same state, same holder)."""
    label = demand.holder_label[:100]
    return DemandEvent.objects.create(
        demand=demand,
        at=at or clock.now(),
        actor=actor,
        actor_kind=actor_kind,
        action=action,
        from_state=demand.state,
        to_state=demand.state,
        from_holder=label,
        to_holder=label,
        note=note,
        is_public=is_public,
        follower=follower,
    )


def _save_photos(demand: Demand, photos: Iterable[Any], *, event: DemandEvent | None, by_resident: bool) -> None:
    from wangge.core.photos import CleanPhoto

    now = clock.now()
    for photo in photos:
        assert isinstance(photo, CleanPhoto)
        item = DemandPhoto(demand=demand, event=event, uploaded_at=now, by_resident=by_resident)
        item.image.save(photo.name, photo.content, save=False)
        item.save()


def _clean_photos(photos: Iterable[Any]) -> list[Any]:
    items = list(photos or ())
    if not items:
        return []
    from wangge.core.photos import clean_photos

    return clean_photos(items)


# --- notifications ------------------------------------------------------------------------


def _staff_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat"))


def _resident_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_RESIDENT_CHANNEL", "sms"))


def _area_staff_ids(area: Area) -> list[int]:
    level_roles = [role for role, level in ROLE_LEVEL.items() if level == area.level and role != Role.AUDITOR]
    return sorted(
        UserScope.objects.filter(area=area, user__is_active=True, user__role__in=level_roles)
        .values_list("user_id", flat=True)
        .distinct()
    )


def _department_staff_ids(department_id: int) -> list[int]:
    return sorted(
        UserScope.objects.filter(department_id=department_id, user__is_active=True, user__role=Role.DEPARTMENT)
        .values_list("user_id", flat=True)
        .distinct()
    )


def _holder_recipients(demand: Demand) -> list[str]:
    """The holding person if any, else every staff member of the holding level, else the level itself."""
    if demand.holder_user_id:
        return [f"user:{demand.holder_user_id}"]
    if demand.holder_department_id:
        ids = _department_staff_ids(demand.holder_department_id)
        return [f"user:{i}" for i in ids] or [f"department:{demand.holder_department.code}"]  # type: ignore[union-attr]
    if demand.holder_area_id and demand.holder_area is not None:
        return _area_recipients(demand.holder_area)
    return []


def _area_recipients(area: Area) -> list[str]:
    ids = _area_staff_ids(area)
    return [f"user:{i}" for i in ids] or [f"area:{area.code}"]


def _above_recipients(demand: Demand) -> list[str]:
    """The level above the holder: the dispatching area for a department, else the parent area."""
    if demand.holder_department_id and demand.holder_area is not None:
        return _area_recipients(demand.holder_area)
    area = demand.holder_area
    if area is not None and area.parent_id:
        parent = Area.objects.get(pk=area.parent_id)
        return _area_recipients(parent)
    return []


def _payload(demand: Demand, event: str) -> dict[str, Any]:
    return {"demand_id": demand.pk, "code": demand.code, "state": demand.state, "event": event}


def _tell_staff(
    demand: Demand, recipients: Iterable[str], *, subject: str, body: str, kind: str, key: str, dedupe: bool = False
) -> None:
    """Outbox rows for staff. A message tied to one event needs no dedupe key (the event happens once, in this
    transaction); flags raised by the worker carry one, so that no retry tells anyone twice."""
    from wangge.notifications.services import outbox_enqueue

    for recipient in dict.fromkeys(recipients):
        outbox_enqueue(
            channel=_staff_channel(),
            recipient=recipient,
            subject=subject,
            body=body,
            payload=_payload(demand, kind),
            kind=f"demand.{kind}",
            area_path=demand.area_path,
            dedupe_key=f"demand:{demand.pk}:{key}:{recipient}"[:200] if dedupe else None,
        )


def _tell_resident(demand: Demand, *, body: str, kind: str, key: str) -> None:
    from wangge.notifications.services import outbox_enqueue

    if not demand.reporter_phone:
        return
    outbox_enqueue(
        channel=_resident_channel(),
        recipient=demand.reporter_phone,
        subject=f"诉求 {demand.code}",
        body=body,
        payload=_payload(demand, kind),
        kind=f"demand.resident.{kind}",
        area_path=demand.area_path,
    )


def _tell_follower(demand: Demand, phone: str, *, body: str, kind: str) -> None:
    """One SMS (outbox row) to a follower of `demand`, like `_tell_resident` for the reporter."""
    from wangge.notifications.services import outbox_enqueue

    if not phone:
        return
    outbox_enqueue(
        channel=_resident_channel(),
        recipient=phone,
        subject=f"诉求 {demand.code}",
        body=body,
        payload=_payload(demand, kind),
        kind=f"demand.follower.{kind}",
        area_path=demand.area_path,
    )


def _tell_arrival(demand: Demand, event: DemandEvent, *, why: str) -> None:
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=f"新诉求待受理 {demand.code}",
        body=f"{why}：{demand.title}（{demand.code}），请在 {_local(demand.accept_due_at)} 前受理。",
        kind="arrival",
        key=f"arrival:{event.pk}",
    )


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(sla.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


# --- the triage suggestion -----------------------------------------------------------------


@dataclass(frozen=True)
class _Suggestion:
    category: Category | None
    confidence: float | None
    auto_apply: bool


def _suggest(title: str, description: str) -> _Suggestion | None:
    func = setting_callable("WANGGE_TRIAGE_SUGGEST")
    if func is None:
        return None
    try:
        result = func(title=title, description=description)
    except Exception:  # a suggestion is a help, never a reason to lose a demand
        log.exception("triage suggestion failed; intake goes on without it")
        return None
    if result is None:
        return None
    code = getattr(result, "category_code", None)
    category = Category.objects.filter(code=code, is_active=True).first() if code else None
    confidence = getattr(result, "confidence", None)
    return _Suggestion(
        category=category,
        confidence=float(confidence) if confidence is not None else None,
        auto_apply=bool(getattr(result, "auto_apply", False)),
    )


# --- intake -------------------------------------------------------------------------------


def _choice(value: str, choices: Any, *, field: str, zh: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(f"未知的{zh}：{value}", f"unknown {field}: {value}", field=field)
    return value


def _resolve_category(category: Any) -> Category | None:
    if category in (None, ""):
        return None
    if isinstance(category, Category):
        found: Category | None = category
    elif isinstance(category, int) or (isinstance(category, str) and category.isdigit() and len(category) > 4):
        found = Category.objects.filter(pk=int(category)).first()
    else:
        found = Category.objects.filter(code=str(category)).first()
    if found is None or not found.is_active:
        raise ValidationFailed("未知的诉求类别", f"unknown category: {category}", field="category", code="bad_category")
    return found


def _resolve_grid(grid: Any) -> Area | None:
    if grid in (None, ""):
        return None
    if isinstance(grid, Area):
        return grid
    found = Area.objects.filter(code=str(grid), level=Level.GRID).first()
    if found is None:
        raise ValidationFailed("找不到该微网格", f"unknown micro-grid: {grid}", field="grid")
    return found


def _float_or_none(value: Any, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationFailed("位置坐标无效", "the location is not a valid point", field=field) from None


@transaction.atomic
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
    household: Household | None = None,
    grid: Any = None,
    area: Area | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    photos: Iterable[Any] = (),
    actor: User | None = None,
    idempotency_key: str | None = None,
    reported_at: dt.datetime | None = None,
) -> Demand:
    """Take in one demand from any channel: validate, route, time-limit, number it, tell the holder.

    A repeated `idempotency_key` returns the first demand (with `was_replayed = True`), even when
    two requests with one key race: the unique key lets one in and the other finds it.
    """
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 128:
            raise ValidationFailed(
                "幂等键过长", "Idempotency-Key is longer than 128 characters", field="idempotency_key"
            )
        existing = Demand.objects.filter(idempotency_key=key).first()
        if existing is not None:
            existing.was_replayed = True  # type: ignore[attr-defined]
            return existing

    _choice(channel, Channel, field="channel", zh="渠道")
    _choice(kind, Kind, field="kind", zh="诉求类型")
    _choice(urgency, Urgency, field="urgency", zh="紧急程度")
    description = _required_text(description, field="description", zh="诉求内容", en="description")
    title = (title or "").strip() or description.splitlines()[0][:40]
    if len(title) > MAX_TITLE:
        raise ValidationFailed(
            f"标题不能超过 {MAX_TITLE} 字", f"title is longer than {MAX_TITLE} characters", field="title"
        )
    from wangge.core.phones import clean_phone

    phone = clean_phone(reporter_phone, field="reporter_phone", required=channel == Channel.RESIDENT_WEB)
    reporter_name = (reporter_name or "").strip()[:50]
    address = (address or "").strip()[:300]
    chosen_category = _resolve_category(category)
    grid_area = _resolve_grid(grid)
    lat_f, lng_f = _float_or_none(lat, "location"), _float_or_none(lng, "location")
    routing.check_point(lat_f, lng_f)
    if actor is not None and _is_staff(actor) and actor.role == Role.AUDITOR:
        raise PermissionDenied("审计人员只能查看", "auditors may only read", code="read_only")
    cleaned = _clean_photos(photos)

    # A photo's GPS helps only when nothing better routes it; a wrong phone clock or GPS must not
    # refuse a report that a resident placed on a list.
    photo_point = next(((p.lat, p.lng) for p in cleaned if p.lat is not None and p.lng is not None), None)
    if lat_f is None and photo_point is not None and household is None and grid_area is None and area is None:
        try:
            routing.area_for_point(*photo_point)
            lat_f, lng_f = photo_point
        except ValidationFailed:
            pass
    target = routing.route(household=household, grid=grid_area, area=area, lat=lat_f, lng=lng_f, address=address)

    if actor is not None and _is_staff(actor) and not _actor_may_file(actor, target):
        raise PermissionDenied(
            "不能为本人辖区以外的区域登记诉求",
            "you may not file demands for an area outside your scope",
            field="area",
        )

    suggestion = _suggest(title, description)
    if chosen_category is None and suggestion is not None and suggestion.auto_apply:
        chosen_category = suggestion.category

    now = clock.now()
    limits = sla.deadlines(category=chosen_category, urgency=urgency, start=now)
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
        reporter_name=reporter_name,
        reporter_phone=phone,
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
        created_by=actor if _is_staff(actor) else None,
        created_at=now,
        updated_at=now,
        **limits,
    )
    if key is None:
        demand.code = codes.next_code()
        demand.save(force_insert=True)
    else:
        try:
            # The savepoint also takes back the code number if the key turns out to be taken.
            with transaction.atomic():
                demand.code = codes.next_code()
                demand.save(force_insert=True)
        except IntegrityError:
            existing = Demand.objects.filter(idempotency_key=key).first()
            if existing is None:
                raise
            existing.was_replayed = True  # type: ignore[attr-defined]
            return existing
    staff_actor = _is_staff(actor)
    if channel == Channel.RESIDENT_WEB and not staff_actor:
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
    _save_photos(demand, cleaned, event=event, by_resident=not staff_actor)
    _tell_arrival(demand, event, why="新诉求")
    _tell_resident(
        demand,
        body=f"您的诉求已登记，编号 {demand.code}，由{target.name}办理。",
        kind="submitted",
        key="submitted",
    )
    demand.was_replayed = False  # type: ignore[attr-defined]
    return demand


def _actor_may_file(actor: User, area: Area) -> bool:
    scope = scope_for(actor)
    if scope.is_global or scope.covers_path(area.path):
        return True
    # Department staff file what their inspectors find anywhere in their department's city.
    if scope.department_ids:
        paths = Department.objects.filter(pk__in=scope.department_ids).values_list("area_path", flat=True)
        return any(area.path.startswith(p) for p in paths)
    return False


# --- staff moves --------------------------------------------------------------------------


@transaction.atomic
def demand_accept(*, demand: Demand, actor: User, version: int | None = None) -> Demand:
    """The holder takes the order (接单); the resident is told."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    now = clock.now()
    changes: dict[str, Any] = {"holder_user": actor}
    first = demand.accepted_at is None
    if first:
        changes["accepted_at"] = now
    demand, _event = _apply(demand=demand, move=Move.ACCEPT, actor=actor, version=version, changes=changes)
    if not first:
        return demand  # a higher level taking it over is internal; the resident heard "accepted" once
    _tell_resident(
        demand,
        body=f"您的诉求 {demand.code} 已由{demand.holder_label}受理，正在办理。",
        kind="accepted",
        key=f"accepted:{_event.pk}",
    )
    return demand


@transaction.atomic
def demand_resolve(
    *, demand: Demand, actor: User, result: str, photos: Iterable[Any] = (), version: int | None = None
) -> Demand:
    """The holder reports the result (with photos); the resident and every merged duplicate's reporter are told."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    result = _required_text(result, field="result", zh="办理结果", en="result")
    cleaned = _clean_photos(photos)
    now = clock.now()
    changes: dict[str, Any] = {"resolved_at": now, "resolution": result, "holder_user": actor}
    if demand.accepted_at is None:
        changes["accepted_at"] = now  # answering at once is also taking the order
    demand, event = _apply(demand=demand, move=Move.RESOLVE, actor=actor, version=version, changes=changes, note=result)
    _save_photos(demand, cleaned, event=event, by_resident=False)
    body = f"您的诉求 {demand.code} 已办结：{result[:60]}。请通过跟踪链接评价。"
    _tell_resident(demand, body=body, kind="resolved", key=f"resolved:{event.pk}")
    # Everyone who reported the same problem hears it once: merged duplicates' reporters, then followers.
    told = {demand.reporter_phone}
    for duplicate in Demand.objects.filter(merged_into=demand).exclude(reporter_phone=""):
        if duplicate.reporter_phone in told:
            continue
        told.add(duplicate.reporter_phone)
        _tell_resident(
            duplicate,
            body=f"您反映的问题（{duplicate.code}）已随诉求 {demand.code} 一并办结：{result[:60]}。",
            kind="resolved",
            key=f"resolved-main:{event.pk}",
        )
    for follower in DemandFollower.objects.filter(demand=demand).order_by("id"):
        if follower.phone in told:
            continue
        told.add(follower.phone)
        _tell_follower(
            demand,
            follower.phone,
            body=f"您关注的诉求 {demand.code} 已办结：{result[:60]}。",
            kind="resolved",
        )
    return demand


def _escalation_changes(demand: Demand, parent: Area, now: dt.datetime) -> dict[str, Any]:
    return {
        **_holder_changes(parent),
        **_fresh_deadlines(demand, now),
        "escalations": F("escalations") + 1,
        "highest_level": _higher(demand.highest_level, parent.level),
    }


def _parent_of_holder(demand: Demand) -> Area:
    area = demand.holder_area
    if demand.holder_department_id or area is None or area.parent_id is None:
        raise Conflict("当前层级不能再上报", "this level has nowhere higher to escalate to", code="conflict")
    return Area.objects.get(pk=area.parent_id)


@transaction.atomic
def demand_escalate(*, demand: Demand, actor: User, reason: str, version: int | None = None) -> Demand:
    """Climb exactly one level (grid → branch → village → town → city), with a reason; the new holder is told."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _required_text(reason, field="reason", zh="上报理由", en="reason")
    _target(demand, Move.ESCALATE)
    parent = _parent_of_holder(demand)
    now = clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.ESCALATE,
        actor=actor,
        version=version,
        changes=_escalation_changes(demand, parent, now),
        note=reason,
    )
    _tell_arrival(demand, event, why=f"下级上报（{reason[:40]}）")
    return demand


@transaction.atomic
def demand_dispatch(
    *, demand: Demand, actor: User, department: Department, note: str = "", version: int | None = None
) -> Demand:
    """A level above the grid sends the demand to a functional department, which must accept it in time."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if department is None or not isinstance(department, Department):
        raise ValidationFailed("请选择承办部门", "choose a department", field="department")
    if not department.is_active:
        raise ValidationFailed("该部门已停用", "this department is inactive", field="department")
    if not demand.area_path.startswith(department.area_path):
        raise ValidationFailed("只能派发给本市的部门", "dispatch only to a department of this city", field="department")
    now = clock.now()
    changes = {
        "holder_department": department,
        "dispatched_department": department,
        "holder_user": None,
        **_fresh_deadlines(demand, now),
    }
    demand, event = _apply(
        demand=demand, move=Move.DISPATCH, actor=actor, version=version, changes=changes, note=note.strip()
    )
    _tell_arrival(demand, event, why=f"{demand.holder_area.name if demand.holder_area else ''}派发")
    return demand


@transaction.atomic
def demand_return(
    *, demand: Demand, actor: User, to_area: Area | None, instructions: str, version: int | None = None
) -> Demand:
    """Send the demand down with instructions: to a lower area of the holder's subtree, or back to the dispatcher."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    instructions = _required_text(instructions, field="instructions", zh="退回说明", en="instructions")
    now = clock.now()
    if demand.holder_department_id:
        dispatcher = demand.holder_area
        if dispatcher is None:
            raise Conflict("找不到派发该诉求的层级", "the dispatching level is unknown")
        if to_area is not None and to_area.pk != dispatcher.pk:
            raise ValidationFailed(
                "部门只能退回给派发的层级",
                "a department returns a demand to the level that dispatched it",
                field="to_area",
            )
        target = dispatcher
    else:
        if to_area is None:
            raise ValidationFailed("请选择退回的下级", "choose the lower level to return to", field="to_area")
        if not (to_area.path.startswith(demand.holder_path) and to_area.path != demand.holder_path):
            raise ValidationFailed(
                "只能退回给本级以下的区域", "return only to a lower level inside your own area", field="to_area"
            )
        target = to_area
    changes = {**_holder_changes(target), **_fresh_deadlines(demand, now, accept=False)}
    demand, event = _apply(
        demand=demand, move=Move.RETURN, actor=actor, version=version, changes=changes, note=instructions
    )
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=f"诉求退回 {demand.code}",
        body=f"{event.from_holder}退回诉求「{demand.title}」：{instructions[:80]}",
        kind="returned",
        key=f"returned:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_reassign(
    *, demand: Demand, actor: User, to_user: User, note: str = "", version: int | None = None
) -> Demand:
    """Hand the demand to a colleague of the same holding level or department."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if to_user is None or not can_hold(demand=demand, user=to_user):
        raise ValidationFailed(
            "只能转交给同一层级（部门）的工作人员",
            "reassign only to staff of the same holding level or department",
            field="to_user",
        )
    demand, event = _apply(
        demand=demand,
        move=Move.REASSIGN,
        actor=actor,
        version=version,
        changes={"holder_user": to_user},
        note=note.strip(),
        is_public=False,
    )
    _tell_staff(
        demand,
        [f"user:{to_user.pk}"],
        subject=f"转交诉求 {demand.code}",
        body=f"{actor}把诉求「{demand.title}」转交给您。{note.strip()[:80]}",
        kind="reassigned",
        key=f"reassigned:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_reject(*, demand: Demand, actor: User, reason: str, version: int | None = None) -> Demand:
    """Refuse with a reason: an area level ends the demand; a department sends it back to its dispatcher."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _required_text(reason, field="reason", zh="驳回理由", en="reason")
    now = clock.now()
    if demand.holder_department_id:
        changes: dict[str, Any] = {"holder_department": None, "holder_user": None, **_fresh_deadlines(demand, now)}
        demand, event = _apply(
            demand=demand, move=Move.REJECT, actor=actor, version=version, changes=changes, note=reason
        )
        _tell_arrival(demand, event, why=f"部门退回派发（{reason[:40]}）")
        return demand
    demand, event = _apply(
        demand=demand, move=Move.REJECT, actor=actor, version=version, changes={"closed_at": now}, note=reason
    )
    _tell_resident(
        demand, body=f"您的诉求 {demand.code} 未予受理：{reason[:80]}", kind="rejected", key=f"rejected:{event.pk}"
    )
    return demand


@transaction.atomic
def demand_merge(*, demand: Demand, actor: User, into: Demand, version: int | None = None) -> Demand:
    """A duplicate joins an earlier demand; its reporter is told when the first one is resolved."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if into is None:
        raise ValidationFailed("请选择要合并到的诉求", "choose the demand to merge into", field="into")
    main = _reload(into)
    if main.pk == demand.pk:
        raise ValidationFailed("不能合并到自身", "a demand cannot be merged into itself", field="into")
    if main.state in FINAL_STATES:
        raise ValidationFailed(
            "只能合并到未关闭的诉求", "merge only into a demand that is still open or resolved", field="into"
        )
    if not can_see(demand=main, user=actor):
        raise ValidationFailed("找不到要合并到的诉求", "the demand to merge into was not found", field="into")
    now = clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.MERGE,
        actor=actor,
        version=version,
        changes={"merged_into": main, "closed_at": now},
        note=f"合并到 {main.code}",
    )
    _note_event(
        main,
        action=Move.COMMENT.value,
        note=f"合并重复诉求 {demand.code}",
        actor=actor,
        at=now,
    )
    _tell_resident(
        demand,
        body=f"您反映的问题与诉求 {main.code} 相同，已合并办理，办结时会通知您。",
        kind="merged",
        key=f"merged:{event.pk}",
    )
    # A merge keeps every reporter informed: the duplicate's reporter and its followers follow the target.
    if demand.reporter_phone and demand.reporter_phone != main.reporter_phone:
        _follower_add(demand=main, phone=demand.reporter_phone, merged_from=demand, now=now)
    for follower in DemandFollower.objects.filter(demand=demand).order_by("id"):
        if follower.phone != main.reporter_phone:
            _follower_add(demand=main, phone=follower.phone, merged_from=demand, now=now)
        if follower.phone == demand.reporter_phone:
            continue
        _tell_follower(
            demand,
            follower.phone,
            body=f"您关注的诉求 {demand.code} 与诉求 {main.code} 相同，已合并办理，办结时会通知您。",
            kind="merged",
        )
    return demand


# --- followers (the same problem, reported by a neighbour) ---------------------------------


def _follower_add(*, demand: Demand, phone: str, now: dt.datetime, merged_from: Demand | None = None) -> DemandFollower:
    """The follower row of `phone` on `demand`, made once (the reporter themself needs none: they hear anyway)."""
    existing = DemandFollower.objects.filter(demand=demand, phone=phone).first()
    if existing is not None:
        return existing
    try:
        # A savepoint: two taps at once make one row, and the loser reads the winner's.
        with transaction.atomic():
            return DemandFollower.objects.create(
                demand=demand, phone=phone, token=codes.new_tracking_token(), merged_from=merged_from, created_at=now
            )
    except IntegrityError:
        return DemandFollower.objects.get(demand=demand, phone=phone)


@transaction.atomic
def demand_follow(*, demand: Demand | int, phone: str) -> DemandFollower:
    """A resident with the same problem follows an open demand instead of filing a duplicate; told when resolved.

    Following twice with one phone returns the same row (and token). A demand merged away is followed
    through the demand it joined.
    """
    phone = _follower_phone(phone)
    demand = _reload(demand)
    if demand.state == State.MERGED and demand.merged_into_id:
        demand = _reload(demand.merged_into_id)
    if demand.state not in OPEN_STATES:
        raise Conflict(
            f"诉求 {demand.code} 已{STATE_ZH.get(demand.state, demand.state)}，不能再关注，请提交您的诉求",
            f"demand {demand.code} is {demand.state} and can no longer be followed; please report yours",
            field="demand",
            code="not_open",
        )
    now = clock.now()
    existed = DemandFollower.objects.filter(demand=demand, phone=phone).exists()
    follower = _follower_add(demand=demand, phone=phone, now=now)
    if existed:
        return follower
    # Staff only (_note_event's default): the reporter's page shows no other resident, not even masked.
    _note_event(
        demand,
        action="follow",
        note=f"另一位居民（{follower.phone_masked}）反映了相同问题，改为关注本诉求",
        actor=None,
        actor_kind=ActorKind.RESIDENT,
        at=now,
        follower=follower,
    )
    _tell_follower(
        demand,
        phone,
        body=f"您已关注诉求 {demand.code}（{demand.title[:30]}），办结时会短信通知您。",
        kind="followed",
    )
    return follower


def _follower_phone(phone: str) -> str:
    from wangge.core.phones import clean_phone

    return clean_phone(
        phone,
        field="phone",
        required=True,
        missing=("请填写手机号码，办结时短信通知您", "Please give your phone number to be told when it is resolved"),
    )


@transaction.atomic
def demand_follower_comment(*, follower: DemandFollower, token: str, body: str) -> DemandComment:
    """A follower leaves a public remark by their own token (they may not rate or add information)."""
    if not token or not hmac.compare_digest(str(follower.token).encode(), str(token).encode()):
        raise PermissionDenied("跟踪链接无效", "the tracking link is not valid", field="token", code="bad_token")
    body = _required_text(body, field="body", zh="留言", en="comment", limit=1000)
    demand = _reload(follower.demand_id)
    now = clock.now()
    _apply(
        demand=demand,
        move=Move.COMMENT,
        actor_kind=ActorKind.RESIDENT,
        note=body,
        is_public=True,
        bump=False,
        follower=follower,
    )
    return DemandComment.objects.create(
        demand=demand, by_resident=True, body=body, visibility=Visibility.PUBLIC, created_at=now
    )


# --- category: a person confirms or corrects the suggestion --------------------------------


def _triage_feedback(*, demand: Demand, category: Category, actor: User, accepted: bool) -> None:
    """Hand the person's choice to the callable in WANGGE_TRIAGE_FEEDBACK (kept as training data)."""
    func = setting_callable("WANGGE_TRIAGE_FEEDBACK")
    if func is None:
        return
    department = category.default_department or (category.parent.default_department if category.parent else None)
    try:
        # A savepoint: a failing feedback store must not undo the person's choice of category.
        with transaction.atomic():
            func(
                demand=demand,
                category_code=category.code,
                department_code=department.code if department is not None else "",
                actor=actor,
                accepted=accepted,
            )
    except Exception:
        log.exception("triage feedback failed for demand %s; the category stands", demand.pk)


@transaction.atomic
def demand_set_category(*, demand: Demand, actor: User, category: Any, version: int | None = None) -> Demand:
    """Only the holder sets the category (confirming or correcting the suggestion); kept as training data."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if demand.state in FINAL_STATES:
        raise Conflict(
            f"诉求当前状态为「{STATE_ZH.get(demand.state, demand.state)}」，不能修改类别",
            f"this demand is {demand.state}; its category cannot change now",
        )
    if category in (None, ""):
        raise ValidationFailed("请选择诉求类别", "choose a category", field="category", code="required")
    chosen = _resolve_category(category)
    assert chosen is not None
    before = demand.category
    now = clock.now()
    updated = Demand.objects.filter(pk=demand.pk, version=demand.version).update(
        category=chosen, version=F("version") + 1, updated_at=now
    )
    if not updated:
        raise Conflict(
            "诉求已被他人处理，请刷新后重试",
            "someone else changed this demand first; reload it and try again",
        )
    accepted = demand.suggested_category_id == chosen.pk
    verdict = "确认智能建议" if accepted else ("更正智能建议" if demand.suggested_category_id else "人工选定")
    _note_event(
        demand,
        action="recategorise",
        note=f"类别：{before or '未分类'} → {chosen}（{verdict}）",
        actor=actor,
        at=now,
    )
    fresh = _reload(demand.pk)
    _triage_feedback(demand=fresh, category=chosen, actor=actor, accepted=accepted)
    return fresh


@transaction.atomic
def demand_category_feedback(*, demand: Demand, actor: User) -> Demand:
    """Staff who file a demand under a category of their choice have answered the suggestion: keep it as data."""
    demand = _reload(demand)
    if not _is_staff(actor) or demand.created_by_id != actor.pk:
        raise PermissionDenied("只有登记人才能确认登记时的类别", "only the person who filed it confirms its category")
    if demand.category is None:
        raise ValidationFailed("该诉求尚未分类", "this demand has no category yet", field="category")
    if DemandEvent.objects.filter(demand=demand, action="recategorise").exists():
        return demand
    accepted = demand.suggested_category_id == demand.category_id
    suggested = demand.suggested_category
    _note_event(
        demand,
        action="recategorise",
        note=f"登记时选定类别：{demand.category}（智能建议：{suggested or '无'}）",
        actor=actor,
    )
    if suggested is not None:
        _triage_feedback(demand=demand, category=demand.category, actor=actor, accepted=accepted)
    return demand


# --- the resident's moves -----------------------------------------------------------------


@transaction.atomic
def demand_rate(*, demand: Demand, satisfaction: str, reason: str = "", token: str) -> Demand:
    """The resident rates a resolved demand: satisfied closes it, unsatisfied reopens it to the same holder."""
    demand = _reload(demand)
    if not _token_ok(demand, token):
        raise PermissionDenied("跟踪链接无效", "the tracking link is not valid", field="token", code="bad_token")
    _choice(satisfaction, Satisfaction, field="satisfaction", zh="评价")
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT:
        raise ValidationFailed("理由过长", "the reason is too long", field="reason")
    satisfied = satisfaction != Satisfaction.UNSATISFIED
    if not satisfied and not reason:
        raise ValidationFailed("不满意时请说明理由", "say why you are unsatisfied", field="reason", code="required")
    now = clock.now()
    changes: dict[str, Any] = {"satisfaction": satisfaction, "rating_reason": reason, "rated_at": now}
    label = SATISFACTION_ZH[satisfaction]
    if satisfied:
        changes["closed_at"] = now
        demand, event = _apply(
            demand=demand,
            move=Move.RATE,
            actor_kind=ActorKind.RESIDENT,
            changes=changes,
            note=f"{label}。{reason}".strip("。") if reason else label,
            facts={"satisfied": True},
        )
        return demand
    changes.update(_fresh_deadlines(demand, now))
    demand, event = _apply(
        demand=demand,
        move=Move.RATE,
        actor_kind=ActorKind.RESIDENT,
        changes=changes,
        note=f"{label}：{reason}",
        facts={"satisfied": False},
        # The rating's consequence is what the timeline shows: a reopen (返工) to the same holder.
        record_as=Move.REOPEN,
    )
    _tell_resident(
        demand,
        body=f"您的诉求 {demand.code} 已退回{demand.holder_label}重新办理。",
        kind="reopened",
        key=f"reopened:{event.pk}",
    )
    _tell_arrival(demand, event, why=f"居民不满意，返工（{reason[:40]}）")
    return demand


@transaction.atomic
def demand_add_info(*, demand: Demand, token: str, text: str, photos: Iterable[Any] = ()) -> Demand:
    """The resident adds words or photos to an open or resolved demand; the holder is told."""
    demand = _reload(demand)
    if not _token_ok(demand, token):
        raise PermissionDenied("跟踪链接无效", "the tracking link is not valid", field="token", code="bad_token")
    text = (text or "").strip()
    cleaned = _clean_photos(photos)
    if not text and not cleaned:
        raise ValidationFailed("请填写补充内容或上传照片", "add some text or a photo", field="text", code="required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed("补充内容过长", "the text is too long", field="text")
    now = clock.now()
    demand, event = _apply(demand=demand, move=Move.ADD_INFO, actor_kind=ActorKind.RESIDENT, note=text, bump=False)
    if text:
        DemandComment.objects.create(
            demand=demand, by_resident=True, body=text, visibility=Visibility.PUBLIC, created_at=now
        )
    _save_photos(demand, cleaned, event=event, by_resident=True)
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=f"居民补充信息 {demand.code}",
        body=f"诉求「{demand.title}」有居民补充：{text[:80]}",
        kind="info",
        key=f"info:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_comment(
    *,
    demand: Demand,
    body: str,
    visibility: str = "staff",
    actor: User | None = None,
    token: str | None = None,
) -> DemandComment:
    """A remark: staff who see the demand (public or staff-only), or the resident by token (always public)."""
    demand = _reload(demand)
    body = _required_text(body, field="body", zh="留言", en="comment")
    if actor is not None and _is_staff(actor):
        if actor.role == Role.AUDITOR:
            raise PermissionDenied("审计人员只能查看", "auditors may only read", code="read_only")
        if not can_see(demand=demand, user=actor):
            raise NotFound("找不到该诉求", "demand not found")
        _choice(visibility, Visibility, field="visibility", zh="可见范围")
        by_resident, actor_kind = False, ActorKind.STAFF
    elif token is not None:
        if not _token_ok(demand, token):
            raise PermissionDenied("跟踪链接无效", "the tracking link is not valid", field="token", code="bad_token")
        visibility, by_resident, actor_kind, actor = Visibility.PUBLIC, True, ActorKind.RESIDENT, None
    else:
        raise PermissionDenied("请先登录或使用跟踪链接", "sign in or use the tracking link")
    now = clock.now()
    _apply(
        demand=demand,
        move=Move.COMMENT,
        actor=actor,
        actor_kind=actor_kind,
        note=body,
        is_public=visibility == Visibility.PUBLIC,
        bump=False,
    )
    return DemandComment.objects.create(
        demand=demand, author=actor, by_resident=by_resident, body=body, visibility=visibility, created_at=now
    )


# --- the worker's moves -------------------------------------------------------------------


@transaction.atomic
def demand_auto_escalate(*, demand: Demand | int) -> Demand:
    """Not accepted within the limit: climb one level by itself; both levels are told."""
    demand = _reload(demand)
    now = clock.now()
    if demand.state not in WAITING_STATES or demand.accept_due_at is None or demand.accept_due_at > now:
        raise Conflict("该诉求未超过受理时限", "this demand is not past its limit to accept")
    parent = _parent_of_holder(demand)
    lower_recipients = _holder_recipients(demand)
    lower_label = demand.holder_label
    demand, event = _apply(
        demand=demand,
        move=Move.AUTO_ESCALATE,
        actor_kind=ActorKind.SYSTEM,
        changes=_escalation_changes(demand, parent, now),
        note=f"超过受理时限未受理，自动上报至{parent.name}",
        # The claim: only a worker that still sees it overdue may move it.
        extra_filter={"accept_due_at__lte": now},
    )
    _tell_arrival(demand, event, why=f"{lower_label}超时未受理，自动上报")
    _tell_staff(
        demand,
        lower_recipients,
        subject=f"诉求超时已上报 {demand.code}",
        body=f"诉求「{demand.title}」超过受理时限未受理，已自动上报至{parent.name}。",
        kind="auto_escalated",
        key=f"auto_escalated:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_warn(*, demand: Demand | int, level: str) -> Demand:
    """Flag a demand near (yellow) or past (red) its limit to resolve, once per level; holder and level above told."""
    demand = _reload(demand)
    if level not in (WarningLevel.YELLOW, WarningLevel.RED):
        raise ValidationFailed("未知的预警级别", f"unknown warning level {level}", field="level")
    current = demand.warning
    if current == level or (current == WarningLevel.RED and level == WarningLevel.YELLOW):
        raise Conflict("该预警已发出", "this warning was already raised")
    if demand.state not in OPEN_STATES:
        raise Conflict("诉求已不在办理中", "this demand is no longer open")
    label = "黄色预警：即将超过办结时限" if level == WarningLevel.YELLOW else "红色预警：已超过办结时限"
    demand, _event = _apply(
        demand=demand,
        move=Move.WARN,
        actor_kind=ActorKind.SYSTEM,
        changes={"warning": level},
        note=label,
        is_public=False,
        bump=False,
        # Claim on the flag itself: two workers cannot both raise the same level.
        extra_filter={"warning": current},
    )
    window = int(demand.resolve_due_at.timestamp()) if demand.resolve_due_at else 0
    body = (
        f"{label}。诉求「{demand.title}」（{demand.code}）办结时限 {_local(demand.resolve_due_at)}，"
        f"承办：{demand.holder_label}。"
    )
    recipients = _holder_recipients(demand) + _above_recipients(demand)
    _tell_staff(
        demand,
        recipients,
        subject=f"{label} {demand.code}",
        body=body,
        kind=f"warn_{level}",
        key=f"warn:{level}:{window}",
        dedupe=True,
    )
    return demand


def _silence_days() -> int:
    return int(getattr(settings, "DEMAND_AUTO_CLOSE_DAYS", 7))


@transaction.atomic
def demand_close_silent(*, demand: Demand | int) -> Demand:
    """Close a resolved demand the resident has not rated within DEMAND_AUTO_CLOSE_DAYS."""
    demand = _reload(demand)
    now = clock.now()
    cutoff = now - dt.timedelta(days=_silence_days())
    if demand.state != State.RESOLVED or demand.resolved_at is None or demand.resolved_at > cutoff:
        raise Conflict("该诉求尚不能自动关闭", "this demand cannot be closed by silence yet")
    demand, _event = _apply(
        demand=demand,
        move=Move.CLOSE,
        actor_kind=ActorKind.SYSTEM,
        changes={"closed_at": now},
        note=f"办结后 {_silence_days()} 天未评价，自动关闭",
        extra_filter={"resolved_at__lte": cutoff},
    )
    return demand


# --- what a user may do -------------------------------------------------------------------


def demand_can(*, demand: Demand, user: Any) -> set[str]:
    """The moves `user` may make on `demand` now (pages show only these buttons)."""
    if not _is_staff(user) or user.role == Role.AUDITOR:
        return set()
    moves: set[str] = set()
    if can_see(demand=demand, user=user):
        moves.add(Move.COMMENT.value)
    if not can_hold(demand=demand, user=user):
        return moves
    allowed = allowed_moves(demand.state, demand.holder_kind or "grid") & STAFF_MOVES
    if Move.ESCALATE in allowed and (demand.holder_area is None or demand.holder_area.parent_id is None):
        allowed.discard(Move.ESCALATE)
    moves |= {m.value for m in allowed}
    return moves
