"""延期 (extension) and 挂起 (suspension): the holder asks the level above, which approves or refuses.

- An extension moves the holder's deadline (`resolve_due_at`) to the date asked for, and the case's deadline
  (`case_due_at`, 总办结时限) with it when it lies later; approved extensions are counted (`extensions`).
- A suspension stops the clock (state `suspended`) for something outside anyone's control; it resumes by
  hand (the holder or a decider) or by the worker on the date given, and every deadline moves later by the
  time spent suspended: working hours for normal matters, calendar time for urgent ones (as `sla.add_hours`).

A request is one `DemandRequest` row (one pending per demand: a partial unique constraint backs the check);
its decision is written once, by a conditional UPDATE on `state = pending`, so two deciders at once give one
winner and one `Conflict`. Who decides is `permissions.can_decide_request` (the area above the holder).
A request whose demand has since changed hands lapses: deciding it is a `Conflict`, and the next request on
the demand closes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.text import clean_text
from wangge.demands import sla
from wangge.demands.models import (
    ActorKind,
    Demand,
    DemandRequest,
    RequestKind,
    RequestState,
    State,
    Urgency,
    WarningLevel,
)
from wangge.demands.permissions import approver_area, can_decide_request, can_hold, is_staff
from wangge.demands.services._common import _local, _reload, in_chinese
from wangge.demands.services.moves import _apply, _check_version, _require_holder, _target
from wangge.demands.services.notify import _area_recipients, _holder_recipients, _tell_resident, _tell_staff
from wangge.demands.transitions import Move, allowed_moves
from wangge.holidays.workdays import add_working_hours, is_workday, workday_bounds, working_hours_between
from wangge.registry.models import Area

MAX_REASON = 1000
# The moves of this module: `demand_can` takes them from `request_moves`, not from the bare table.
REQUEST_MOVES: frozenset[Move] = frozenset(
    {
        Move.EXTEND,
        Move.EXTEND_APPROVE,
        Move.EXTEND_REFUSE,
        Move.SUSPEND,
        Move.SUSPEND_APPROVE,
        Move.SUSPEND_REFUSE,
        Move.RESUME,
    }
)
REASON_LABEL = pgettext_lazy("demand field", "reason for the request")
NOTE_LABEL = pgettext_lazy("demand field", "reason to refuse")
KIND_MOVES = {
    RequestKind.EXTENSION: (Move.EXTEND, Move.EXTEND_APPROVE, Move.EXTEND_REFUSE),
    RequestKind.SUSPENSION: (Move.SUSPEND, Move.SUSPEND_APPROVE, Move.SUSPEND_REFUSE),
}


# --- reading -------------------------------------------------------------------------------


def pending_request(demand: Demand) -> DemandRequest | None:
    """The request of `demand` that waits for a decision, if any."""
    return DemandRequest.objects.filter(demand=demand, state=RequestState.PENDING).first()


def current_suspension(demand: Demand) -> DemandRequest | None:
    """The approved suspension that stopped the clock of a suspended demand (None when it is not suspended)."""
    if demand.state != State.SUSPENDED or demand.suspended_at is None:
        return None
    return (
        DemandRequest.objects.filter(
            demand=demand,
            kind=RequestKind.SUSPENSION,
            state=RequestState.APPROVED,
            decided_at__gte=demand.suspended_at,
        )
        .order_by("-decided_at", "-id")
        .first()
    )


def _is_current(request: DemandRequest, demand: Demand) -> bool:
    """Whether a pending request still stands: the demand is in hand and has the same level above."""
    above = approver_area(demand)
    return demand.state == State.IN_PROGRESS and above is not None and above.path == request.approver_path


def request_moves(*, demand: Demand, user: Any) -> set[str]:
    """The moves of this module that `user` may make on `demand` now (the page shows only these)."""
    if not is_staff(user) or demand.state not in (State.IN_PROGRESS, State.SUSPENDED):
        return set()
    moves: set[str] = set()
    holds = can_hold(demand=demand, user=user)
    if demand.state == State.SUSPENDED:
        suspension = current_suspension(demand)
        if holds or (suspension is not None and can_decide_request(request=suspension, user=user)):
            moves.add(Move.RESUME.value)
        return moves
    pending = pending_request(demand)
    if pending is not None and _is_current(pending, demand):
        if can_decide_request(request=pending, user=user):
            _ask, approve, refuse = KIND_MOVES[RequestKind(pending.kind)]
            moves |= {approve.value, refuse.value}
        return moves
    if holds and approver_area(demand) is not None:
        allowed = allowed_moves(demand.state, demand.holder_kind or "grid")
        moves |= {m.value for m in (Move.EXTEND, Move.SUSPEND) if m in allowed}
    return moves


# --- dates -------------------------------------------------------------------------------


def _as_moment(value: dt.date | dt.datetime | None, *, end_of_day: bool) -> dt.datetime | None:
    """A date as the close (or the opening) of that working day in local time; a datetime as given."""
    if value is None:
        return None
    tz = clock.local_tz()
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if not is_workday(value):
        raise ValidationFailed(
            _("%(date)s is not a working day; choose a working day"), params={"date": value.isoformat()}, field="until"
        )
    opening, closing = workday_bounds()
    return dt.datetime.combine(value, closing if end_of_day else opening, tz)


def _shift(value: dt.datetime | None, *, start: dt.datetime, end: dt.datetime, urgent: bool) -> dt.datetime | None:
    """`value` moved later by the time between `start` and `end`: calendar time when urgent, else working hours."""
    if value is None or end <= start:
        return value
    if urgent:
        return value + (end - start)
    hours = working_hours_between(start, end)
    return add_working_hours(value, hours) if hours > 0 else value


# --- asking -------------------------------------------------------------------------------


def _reason(value: str | None) -> str:
    return clean_text(value, field="reason", label=REASON_LABEL, limit=MAX_REASON, required=True)


def _open_request(
    *, demand: Demand, actor: User, kind: str, reason: str, until: dt.datetime | None
) -> tuple[DemandRequest, Area]:
    """Checks shared by both requests, then the row and the event; returns the approver area too."""
    ask = KIND_MOVES[RequestKind(kind)][0]
    _target(demand, ask)
    above = approver_area(demand)
    if above is None:
        raise Conflict(_("there is no level above the holder to decide this request"))
    now = clock.now()
    stale = DemandRequest.objects.filter(demand=demand, state=RequestState.PENDING)
    for old in stale:
        if _is_current(old, demand):
            raise Conflict(_("a request on this demand is waiting for a decision already"), code="pending")
        # Asked by an earlier holder: the demand has changed hands since, so it lapses unanswered.
        DemandRequest.objects.filter(pk=old.pk, state=RequestState.PENDING).update(
            state=RequestState.REFUSED,
            decided_at=now,
            decision_note=in_chinese(_("Lapsed: the demand changed hands before a decision.")),
        )
    try:
        with transaction.atomic():  # the partial unique constraint: one pending request per demand
            request = DemandRequest.objects.create(
                demand=demand,
                kind=kind,
                reason=reason,
                until=until,
                requested_by=actor,
                requested_at=now,
                approver_path=above.path,
            )
    except IntegrityError:
        raise Conflict(_("a request on this demand is waiting for a decision already"), code="pending") from None
    return request, above


def _tell_approvers(demand: Demand, request: DemandRequest, above: Area, *, subject: str, body: str) -> None:
    _tell_staff(
        demand,
        _area_recipients(above),
        subject=subject,
        body=body,
        kind=f"{request.kind}_request",
        key=f"request:{request.pk}",
    )


@transaction.atomic
def demand_extension_request(
    *, demand: Demand, actor: User, reason: str, until: dt.date | dt.datetime | None, version: int | None = None
) -> DemandRequest:
    """The holder of a demand in hand asks the level above for a later deadline (延期), with a reason.

    `until`: a date (the close of that working day) or a moment; later than the current deadline and in the
    future. The deciders are pushed a message."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _reason(reason)
    moment = _as_moment(until, end_of_day=True)
    if moment is None:
        raise ValidationFailed(_("give the new deadline"), field="until")
    if moment <= clock.now():
        raise ValidationFailed(_("the new deadline must be in the future"), field="until")
    if demand.resolve_due_at is not None and moment <= demand.resolve_due_at:
        raise ValidationFailed(
            _("the new deadline must be later than the current one (%(due)s)"),
            params={"due": _local(demand.resolve_due_at)},
            field="until",
        )
    request, above = _open_request(demand=demand, actor=actor, kind=RequestKind.EXTENSION, reason=reason, until=moment)
    note = in_chinese(_("New deadline asked for: %(until)s. %(reason)s"), {"until": _local(moment), "reason": reason})
    demand, _event = _apply(demand=demand, move=Move.EXTEND, actor=actor, version=version, note=note, is_public=False)
    _tell_approvers(
        demand,
        request,
        above,
        subject=in_chinese(_("Extension to decide %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(holder)s asks to extend “%(title)s” to %(until)s: %(reason)s"),
            {"holder": demand.holder_label, "title": demand.title, "until": _local(moment), "reason": reason[:80]},
        ),
    )
    return request


@transaction.atomic
def demand_suspension_request(
    *,
    demand: Demand,
    actor: User,
    reason: str,
    until: dt.date | dt.datetime | None = None,
    version: int | None = None,
) -> DemandRequest:
    """The holder asks the level above to stop the clock (挂起): waiting on weather, a court, a budget.

    `until`: when the clock resumes by itself (a date: the opening of that working day); None: by hand."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    reason = _reason(reason)
    moment = _as_moment(until, end_of_day=False)
    if moment is not None and moment <= clock.now():
        raise ValidationFailed(_("the date to resume must be in the future"), field="until")
    request, above = _open_request(demand=demand, actor=actor, kind=RequestKind.SUSPENSION, reason=reason, until=moment)
    resume = _local(moment) if moment is not None else in_chinese(_("by hand"))
    note = in_chinese(_("Resume: %(resume)s. %(reason)s"), {"resume": resume, "reason": reason})
    demand, _event = _apply(demand=demand, move=Move.SUSPEND, actor=actor, version=version, note=note, is_public=False)
    _tell_approvers(
        demand,
        request,
        above,
        subject=in_chinese(_("Suspension to decide %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(holder)s asks to suspend “%(title)s”: %(reason)s"),
            {"holder": demand.holder_label, "title": demand.title, "reason": reason[:80]},
        ),
    )
    return request


# --- deciding -----------------------------------------------------------------------------


def _claim(
    request: DemandRequest | int, *, kind: str, actor: User, approve: bool, note: str
) -> tuple[DemandRequest, Demand]:
    """Check the decider and the request, then write the decision once (conditional UPDATE on pending)."""
    pk = request if isinstance(request, int) else request.pk
    found = DemandRequest.objects.filter(pk=pk, kind=kind).first()
    if found is None:
        raise NotFound(_("request not found"))
    if not can_decide_request(request=found, user=actor):
        raise PermissionDenied(_("only the level above the holder decides this request"), code="not_approver")
    note = clean_text(note, field="note", label=NOTE_LABEL, limit=MAX_REASON, required=not approve)
    if found.state != RequestState.PENDING:
        raise Conflict(_("this request was decided already"))
    demand = _reload(found.demand_id)
    if not _is_current(found, demand):
        raise Conflict(_("the demand changed hands or state since this request was made; it has lapsed"))
    now = clock.now()
    decided = DemandRequest.objects.filter(pk=found.pk, state=RequestState.PENDING).update(
        state=RequestState.APPROVED if approve else RequestState.REFUSED,
        decided_by=actor,
        decided_at=now,
        decision_note=note,
    )
    if not decided:
        raise Conflict(_("this request was decided already"))
    found.refresh_from_db()
    return found, demand


def _tell_holder(demand: Demand, request: DemandRequest, *, subject: str, body: str) -> None:
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=subject,
        body=body,
        kind=f"{request.kind}_decided",
        key=f"decided:{request.pk}",
    )


@transaction.atomic
def demand_extension_decide(
    *, request: DemandRequest | int, actor: User, approve: bool, note: str = ""
) -> DemandRequest:
    """The level above approves (the deadlines move, counted in `extensions`) or refuses (with a reason)."""
    request, demand = _claim(request, kind=RequestKind.EXTENSION, actor=actor, approve=approve, note=note)
    if not approve:
        demand, _event = _apply(demand=demand, move=Move.EXTEND_REFUSE, actor=actor, note=note, is_public=False)
        _tell_holder(
            demand,
            request,
            subject=in_chinese(_("Extension refused %(code)s"), {"code": demand.code}),
            body=in_chinese(
                _("The extension of “%(title)s” was refused: %(note)s"), {"title": demand.title, "note": note}
            ),
        )
        return request
    until = request.until
    assert until is not None  # an extension always names its deadline
    now = request.decided_at or clock.now()
    changes: dict[str, Any] = {
        "resolve_due_at": until,
        "case_due_at": max(demand.case_due_at, until) if demand.case_due_at else until,
        "yellow_at": sla.yellow_at(start=now, due=until),
        "warning": WarningLevel.NONE,
        "extensions": F("extensions") + 1,
    }
    told = in_chinese(_("New deadline: %(until)s"), {"until": _local(until)})
    demand, event = _apply(
        demand=demand,
        move=Move.EXTEND_APPROVE,
        actor=actor,
        changes=changes,
        note=told,  # the resident sees the new date too; the decider's own words stay on the request
        is_public=True,
    )
    _tell_holder(
        demand,
        request,
        subject=in_chinese(_("Extension approved %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("“%(title)s” may now be resolved by %(until)s."), {"title": demand.title, "until": _local(until)}
        ),
    )
    _tell_resident(
        demand,
        body=in_chinese(
            _("Your demand %(code)s needs more time: it will be resolved by %(until)s."),
            {"code": demand.code, "until": _local(until)},
        ),
        kind="extended",
        key=f"extended:{event.pk}",
    )
    return request


@transaction.atomic
def demand_suspension_decide(
    *, request: DemandRequest | int, actor: User, approve: bool, note: str = ""
) -> DemandRequest:
    """The level above approves (the clock stops: state `suspended`) or refuses (with a reason)."""
    request, demand = _claim(request, kind=RequestKind.SUSPENSION, actor=actor, approve=approve, note=note)
    if not approve:
        demand, _event = _apply(demand=demand, move=Move.SUSPEND_REFUSE, actor=actor, note=note, is_public=False)
        _tell_holder(
            demand,
            request,
            subject=in_chinese(_("Suspension refused %(code)s"), {"code": demand.code}),
            body=in_chinese(
                _("The suspension of “%(title)s” was refused: %(note)s"), {"title": demand.title, "note": note}
            ),
        )
        return request
    now = request.decided_at or clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.SUSPEND_APPROVE,
        actor=actor,
        changes={"suspended_at": now, "suspensions": F("suspensions") + 1},
        note=request.reason,
        is_public=True,
    )
    _tell_holder(
        demand,
        request,
        subject=in_chinese(_("Suspension approved %(code)s"), {"code": demand.code}),
        body=in_chinese(_("The clock of “%(title)s” is stopped until it resumes."), {"title": demand.title}),
    )
    _tell_resident(
        demand,
        body=in_chinese(
            _("Your demand %(code)s is suspended for now: %(reason)s"),
            {"code": demand.code, "reason": request.reason[:80]},
        ),
        kind="suspended",
        key=f"suspended:{event.pk}",
    )
    return request


# --- resuming -----------------------------------------------------------------------------


@transaction.atomic
def demand_resume(*, demand: Demand | int, actor: User | None = None, version: int | None = None) -> Demand:
    """The clock of a suspended demand runs again where it stopped: every deadline moves later by the time
    spent suspended. By hand (the holder, or a decider of the suspension) or by the worker (`actor` None)
    once the suspension's date has come."""
    demand = _reload(demand)
    _check_version(demand, version)
    _target(demand, Move.RESUME)
    suspension = current_suspension(demand)
    now = clock.now()
    if actor is None:
        if suspension is None or suspension.until is None or suspension.until > now:
            raise Conflict(_("this suspension has no date to resume that has come"))
    elif not (
        can_hold(demand=demand, user=actor)
        or (suspension is not None and can_decide_request(request=suspension, user=actor))
    ):
        raise PermissionDenied(_("only the holder or the level above may resume this demand"), code="not_holder")
    started = demand.suspended_at or now
    urgent = demand.urgency == Urgency.URGENT
    changes: dict[str, Any] = {
        "suspended_at": None,
        **{
            name: _shift(getattr(demand, name), start=started, end=now, urgent=urgent)
            for name in ("resolve_due_at", "case_due_at", "yellow_at")
        },
    }
    note = in_chinese(_("Suspended from %(start)s; the deadlines move later by that time."), {"start": _local(started)})
    demand, event = _apply(
        demand=demand,
        move=Move.RESUME,
        actor=actor,
        actor_kind=ActorKind.STAFF if actor is not None else ActorKind.SYSTEM,
        version=version,
        changes=changes,
        note=note,
        is_public=True,
    )
    if actor is None or not can_hold(demand=demand, user=actor):
        _tell_staff(
            demand,
            _holder_recipients(demand),
            subject=in_chinese(_("Demand resumed %(code)s"), {"code": demand.code}),
            body=in_chinese(
                _("The clock of “%(title)s” runs again; resolve it by %(due)s."),
                {"title": demand.title, "due": _local(demand.resolve_due_at)},
            ),
            kind="resumed",
            key=f"resumed:{event.pk}",
        )
    return demand
