"""The holder's moves (accept, resolve, escalate, dispatch, return, reassign, reject; merge is in
merge.py) and the machinery every move shares.

Each move: the demand is read afresh, the acting user must hold it (`permissions.can_hold`), the
table in transitions.py must allow the move, and the change is applied by a conditional UPDATE on
(pk, state, version). Two people acting at once therefore give one winner and one `Conflict`. The
event row and the outbox rows are written in the same transaction, so a move is never half-made
and nobody is told of a move that did not happen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands.models import (
    ActorKind,
    Demand,
    DemandEvent,
    DemandFollower,
    State,
)
from wangge.demands.permissions import can_call_back, can_hold, can_see, can_verify, is_staff
from wangge.demands.services._common import (
    _clean_photos,
    _fresh_deadlines,
    _higher,
    _holder_changes,
    _reload,
    _required_text,
    _save_photos,
    in_chinese,
    table_facts,
)
from wangge.demands.services.notify import (
    _holder_recipients,
    _tell_arrival,
    _tell_resident,
    _tell_resolved,
    _tell_staff,
    _tell_verifiers,
)
from wangge.demands.transitions import STAFF_MOVES, IllegalMove, Move, allowed_moves, move_verb, next_state
from wangge.registry.models import Area, Department

# --- the machinery ------------------------------------------------------------------------


def _stale() -> Conflict:
    return Conflict(_("the demand was changed by someone else; reload it and try again"))


def _check_version(demand: Demand, version: int | None) -> None:
    """The version the actor saw, when given, must be the demand's: otherwise someone else moved it (409)."""
    if version is not None and int(version) != demand.version:
        raise _stale()


def _require_holder(demand: Demand, actor: Any, version: int | None = None) -> None:
    # A stale version is a lost race first: the holder may have changed because someone else moved it.
    _check_version(demand, version)
    if not can_hold(demand=demand, user=actor):
        raise PermissionDenied(
            _("only the current holder of this demand (%(holder)s) may act on it"),
            params={"holder": demand.holder_label},
            code="not_holder",
        )


def _target(demand: Demand, move: Move, facts: dict[str, Any] | None = None) -> str:
    """The state the table gives; a move the current state does not allow is a lost race (Conflict)."""
    try:
        return next_state(
            demand.state,
            move,
            holder_kind=demand.holder_kind or "grid",
            **{**table_facts(demand, move), **(facts or {})},
        )
    except IllegalMove:
        raise Conflict(
            _("This demand is “%(state)s” now, so “%(move)s” is not possible."),
            params={"state": State(demand.state).label, "move": move_verb(move.value)},
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
    note_public: bool = True,
    facts: dict[str, Any] | None = None,
    bump: bool = True,
    extra_filter: dict[str, Any] | None = None,
    record_as: Move | None = None,
    follower: DemandFollower | None = None,
) -> tuple[Demand, DemandEvent]:
    """Apply one move: table check, conditional UPDATE on (pk, state, version), event row."""
    state = demand.state
    target = _target(demand, move, facts)
    _check_version(demand, version)
    now = clock.now()
    values: dict[str, Any] = {**(changes or {}), "state": target, "updated_at": now}
    if bump:
        values["version"] = F("version") + 1
    updated = Demand.objects.filter(pk=demand.pk, state=state, version=demand.version, **(extra_filter or {})).update(
        **values
    )
    if not updated:
        raise Conflict(
            _("someone else changed this demand first; reload it and try again"),
        )
    from_holder = demand.holder_label
    fresh = _reload(demand.pk)
    event = DemandEvent.objects.create(
        demand=fresh,
        at=now,
        actor=actor if is_staff(actor) else None,
        actor_kind=actor_kind,
        action=(record_as or move).value,
        from_state=state,
        to_state=target,
        from_holder=from_holder[:100],
        to_holder=fresh.holder_label[:100],
        note=note,
        is_public=is_public,
        note_public=note_public,
        follower=follower,
    )
    return fresh, event


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
        raise Conflict(_("this level has nowhere higher to escalate to"), code="conflict")
    return Area.objects.get(pk=area.parent_id)


# --- the holder's moves -------------------------------------------------------------------


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
        body=in_chinese(
            _("%(holder)s has accepted your demand %(code)s and is working on it."),
            {"code": demand.code, "holder": demand.holder_label},
        ),
        kind="accepted",
        key=f"accepted:{_event.pk}",
    )
    return demand


@transaction.atomic
def demand_resolve(
    *, demand: Demand, actor: User, result: str, photos: Iterable[Any] = (), version: int | None = None
) -> Demand:
    """The holder reports the result (with photos); the resident and every merged duplicate's reporter are told.

    In a category that needs verification (核查) the demand waits for a verifier instead, who is told; the
    resident hears "resolved" when the verifier confirms it (`verification.demand_verify`)."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    from wangge.demands.services.assists import require_assists_replied  # assists builds on this module

    require_assists_replied(demand)  # 协办: name the departments that have not replied (the table only refuses)
    result = _required_text(result, field="result", label="result")
    cleaned = _clean_photos(photos)
    now = clock.now()
    changes: dict[str, Any] = {"resolved_at": now, "resolution": result, "holder_user": actor}
    if demand.accepted_at is None:
        changes["accepted_at"] = now  # answering at once is also taking the order
    demand, event = _apply(demand=demand, move=Move.RESOLVE, actor=actor, version=version, changes=changes, note=result)
    _save_photos(demand, cleaned, event=event, by_resident=False)
    if demand.state == State.VERIFYING:
        _tell_verifiers(demand, event)  # the resident hears "resolved" once it is verified (核查)
    else:
        _tell_resolved(demand, event, result=result)
    return demand


@transaction.atomic
def demand_escalate(
    *, demand: Demand, actor: User, reason: str, public: bool = False, version: int | None = None
) -> Demand:
    """Climb exactly one level (grid → branch → village → town → city), with a reason; the new holder is told.

    `public`: the reason is shown to the resident too (staff choose; by default an internal reason stays
    internal: the resident's timeline shows the move without it).
    """
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _required_text(reason, field="reason", label="escalate_reason")
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
        note_public=public,
    )
    why = in_chinese(_("Escalated by the level below (%(reason)s)"), {"reason": reason[:40]})
    _tell_arrival(demand, event, why=why)
    return demand


@transaction.atomic
def demand_dispatch(
    *,
    demand: Demand,
    actor: User,
    department: Department,
    note: str = "",
    public: bool = False,
    version: int | None = None,
) -> Demand:
    """A level above the grid sends the demand to a functional department, which must accept it in time.

    `public`: the note is shown to the resident (as for `demand_escalate`)."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if department is None or not isinstance(department, Department):
        raise ValidationFailed(_("choose a department"), field="department")
    if not department.is_active:
        raise ValidationFailed(_("this department is inactive"), field="department")
    if not demand.area_path.startswith(department.area_path):
        raise ValidationFailed(_("dispatch only to a department of this city"), field="department")
    now = clock.now()
    changes = {
        "holder_department": department,
        "dispatched_department": department,
        "holder_user": None,
        **_fresh_deadlines(demand, now),
    }
    demand, event = _apply(
        demand=demand,
        move=Move.DISPATCH,
        actor=actor,
        version=version,
        changes=changes,
        note=note.strip(),
        note_public=public,
    )
    dispatcher = demand.holder_area.name if demand.holder_area else ""
    _tell_arrival(demand, event, why=in_chinese(_("Dispatched by %(area)s"), {"area": dispatcher}))
    return demand


@transaction.atomic
def demand_return(
    *,
    demand: Demand,
    actor: User,
    to_area: Area | None,
    instructions: str,
    public: bool = False,
    version: int | None = None,
) -> Demand:
    """Send the demand down with instructions: to a lower area of the holder's subtree, or back to the dispatcher.

    `public`: the instructions are shown to the resident (as for `demand_escalate`)."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    instructions = _required_text(instructions, field="instructions", label="instructions")
    now = clock.now()
    if demand.holder_department_id:
        dispatcher = demand.holder_area
        if dispatcher is None:
            raise Conflict(_("the dispatching level is unknown"))
        if to_area is not None and to_area.pk != dispatcher.pk:
            raise ValidationFailed(
                _("a department returns a demand to the level that dispatched it"),
                field="to_area",
            )
        target = dispatcher
    else:
        if to_area is None:
            raise ValidationFailed(_("choose the lower level to return to"), field="to_area")
        if not (to_area.path.startswith(demand.holder_path) and to_area.path != demand.holder_path):
            raise ValidationFailed(_("return only to a lower level inside your own area"), field="to_area")
        target = to_area
    changes = {**_holder_changes(target), **_fresh_deadlines(demand, now, accept=False)}
    demand, event = _apply(
        demand=demand,
        move=Move.RETURN,
        actor=actor,
        version=version,
        changes=changes,
        note=instructions,
        note_public=public,
    )
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=in_chinese(_("Demand returned %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(holder)s returned the demand “%(title)s”: %(instructions)s"),
            {"holder": event.from_holder, "title": demand.title, "instructions": instructions[:80]},
        ),
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
            _("reassign only to staff of the same holding level or department"),
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
        subject=in_chinese(_("Demand reassigned %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(actor)s reassigned the demand “%(title)s” to you. %(note)s"),
            {"actor": actor, "title": demand.title, "note": note.strip()[:80]},
        ),
        kind="reassigned",
        key=f"reassigned:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_reject(*, demand: Demand, actor: User, reason: str, version: int | None = None) -> Demand:
    """Refuse with a reason: an area level ends the demand; a department sends it back to its dispatcher."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _required_text(reason, field="reason", label="reject_reason")
    now = clock.now()
    if demand.holder_department_id:
        changes: dict[str, Any] = {"holder_department": None, "holder_user": None, **_fresh_deadlines(demand, now)}
        demand, event = _apply(
            demand=demand, move=Move.REJECT, actor=actor, version=version, changes=changes, note=reason
        )
        why = in_chinese(_("The department sent the dispatch back (%(reason)s)"), {"reason": reason[:40]})
        _tell_arrival(demand, event, why=why)
        return demand
    demand, event = _apply(
        demand=demand, move=Move.REJECT, actor=actor, version=version, changes={"closed_at": now}, note=reason
    )
    _tell_resident(
        demand,
        body=in_chinese(
            _("Your demand %(code)s was not accepted: %(reason)s"), {"code": demand.code, "reason": reason[:80]}
        ),
        kind="rejected",
        key=f"rejected:{event.pk}",
    )
    return demand


# --- what a user may do -------------------------------------------------------------------


def demand_can(*, demand: Demand, user: Any) -> set[str]:
    """The moves `user` may make on `demand` now (pages show only these buttons)."""
    if not is_staff(user) or user.role == Role.AUDITOR:
        return set()
    moves: set[str] = set()
    if can_see(demand=demand, user=user):
        moves.add(Move.COMMENT.value)
    if can_call_back(demand=demand, user=user):
        moves.add("call_back")  # not a move of the table: a resolved demand's call back (回访)
    from wangge.demands.services.requests import REQUEST_MOVES, request_moves  # 延期/挂起 (it imports this module)

    moves |= request_moves(demand=demand, user=user)
    if can_verify(demand=demand, user=user):
        moves |= {Move.VERIFY.value, Move.VERIFY_BACK.value}  # the verifier's (核查), who never holds it
    moves |= {m.value for m in _holder_moves(demand, user, Move.RESOLVE) - REQUEST_MOVES}
    return moves


def demand_may(*, demand: Demand, user: Any, move: Move) -> bool:
    """Whether `user` may make the holder's `move` on `demand` now: the one question `demand_can` answers
    among others, without the queries it spends on requests, call backs and verification (the console asks
    it of every row of a page)."""
    return is_staff(user) and user.role != Role.AUDITOR and move in _holder_moves(demand, user, move)


def _holder_moves(demand: Demand, user: Any, move: Move) -> set[Move]:
    """The staff moves of the table `user` may make as the holder (none when they do not hold it); the
    facts are those `move` needs (`table_facts`: the open assists are read for a resolve only)."""
    if not can_hold(demand=demand, user=user):
        return set()
    facts = table_facts(demand, move)
    facts.pop("needs_verification")
    allowed = allowed_moves(demand.state, demand.holder_kind or "grid", **facts) & STAFF_MOVES
    if Move.ESCALATE in allowed and (demand.holder_area is None or demand.holder_area.parent_id is None):
        allowed.discard(Move.ESCALATE)
    return allowed
