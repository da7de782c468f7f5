"""Verification before closing (核查): a resolved demand of a category marked "needs verification" (a
safety hazard, say) waits in the state `verifying` until a verifier confirms it on site with a photo,
or sends it back to the same holder to be done again.

Who verifies is `permissions.can_verify` (the grid leaders of the demand's own grid, or a supervisor
whose scope covers its area; never the person who resolved it). The resident hears "resolved, please
rate" only when the verifier confirms (`demand_resolve` tells the verifiers instead). A send-back is
recorded as its own event, `verify_back`, which the measures count as rework (返工) like a reopen.

`resolved_at` is the time of the holder's latest answer: a send-back keeps it (as a resident's reopen
does) and the next resolve sets it again, so it is also when the current wait for a verifier began.
`verified_at` is when the verifier confirmed; the silent closing counts from it (`automatic`).

The worker reminds the verifiers once per wait when nobody verified within DEMAND_VERIFY_HOURS working
hours (`demand_verify_remind`): a staff-only `verify_overdue` event and outbox rows, the state unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.text import clean_text
from wangge.demands.models import ActorKind, Demand, DemandEvent, State
from wangge.demands.permissions import can_verify
from wangge.demands.services._common import (
    MAX_TEXT,
    _clean_photos,
    _fresh_deadlines,
    _local,
    _note_event,
    _reload,
    _save_photos,
    in_chinese,
)
from wangge.demands.services.moves import _apply, _check_version, _stale, _target
from wangge.demands.services.notify import _holder_recipients, _tell_resolved, _tell_staff, _verifier_recipients
from wangge.demands.transitions import Move
from wangge.holidays.workdays import add_working_hours

# The timeline's event when the verification limit passed (staff only, the state unchanged).
OVERDUE_ACTION = "verify_overdue"

NOTE_LABEL = pgettext_lazy("demand field", "verification note")
REASON_LABEL = pgettext_lazy("demand field", "reason to send back")


def verify_hours() -> float:
    """Working hours a verifier has before being reminded (DEMAND_VERIFY_HOURS, about two working days)."""
    return float(getattr(settings, "DEMAND_VERIFY_HOURS", 16))


def verify_due_at(demand: Demand) -> dt.datetime | None:
    """When the current wait for a verifier passes its limit (None when the demand does not wait)."""
    if demand.state != State.VERIFYING or demand.resolved_at is None:
        return None
    return add_working_hours(demand.resolved_at, verify_hours())


def _require_verifier(demand: Demand, actor: Any, move: Move, version: int | None) -> None:
    _check_version(demand, version)
    _target(demand, move)  # not waiting for a verifier (any more): a Conflict naming the state
    if actor is not None and demand.holder_user_id == getattr(actor, "pk", None):
        raise PermissionDenied(
            _("whoever resolved a demand may not verify it; a colleague or a supervisor does"),
            code="own_work",
        )
    if not can_verify(demand=demand, user=actor):
        raise PermissionDenied(
            _("only the grid leader of its micro-grid or a supervisor of its area may verify this demand"),
            code="not_verifier",
        )


@transaction.atomic
def demand_verify(
    *,
    demand: Demand,
    actor: User,
    photos: Iterable[Any],
    note: str = "",
    version: int | None = None,
) -> Demand:
    """The verifier confirms on site (核查通过) with at least one photo: the demand is resolved, and the
    resident (with every merged duplicate's reporter and follower) is asked to rate it."""
    demand = _reload(demand)
    _require_verifier(demand, actor, Move.VERIFY, version)
    note = clean_text(note, field="note", label=NOTE_LABEL, limit=MAX_TEXT)
    cleaned = _clean_photos(photos)
    if not cleaned:
        raise ValidationFailed(
            _("add at least one photo taken on site to confirm the result"), field="photos", code="required"
        )
    demand, event = _apply(
        demand=demand,
        move=Move.VERIFY,
        actor=actor,
        version=version,
        changes={"verified_at": clock.now()},
        note=note,
    )
    _save_photos(demand, cleaned, event=event, by_resident=False)
    _tell_resolved(demand, event, result=demand.resolution)
    return demand


@transaction.atomic
def demand_verify_back(
    *,
    demand: Demand,
    actor: User,
    reason: str,
    photos: Iterable[Any] = (),
    version: int | None = None,
) -> Demand:
    """The verifier sends the demand back to the same holder (退回重办) with a reason (and photos of what
    is still wrong): in progress again with fresh limits to resolve; the holder is pushed a message.

    The holder's answer stays in `resolution` (shown as the earlier attempt) and `resolved_at` is kept
    until the holder resolves again. The resident is not told: for them the demand was never resolved.
    """
    demand = _reload(demand)
    _require_verifier(demand, actor, Move.VERIFY_BACK, version)
    reason = clean_text(reason, field="reason", label=REASON_LABEL, limit=MAX_TEXT, required=True)
    cleaned = _clean_photos(photos)
    changes = _fresh_deadlines(demand, clock.now(), accept=False)
    demand, event = _apply(
        demand=demand,
        move=Move.VERIFY_BACK,
        actor=actor,
        version=version,
        changes=changes,
        note=reason,
        note_public=False,
    )
    _save_photos(demand, cleaned, event=event, by_resident=False)
    _tell_staff(
        demand,
        _holder_recipients(demand),
        subject=in_chinese(_("Demand sent back by the verifier %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("The verifier sent back the demand “%(title)s” (%(code)s) to be done again by %(due)s: %(reason)s"),
            {"title": demand.title, "code": demand.code, "due": _local(demand.resolve_due_at), "reason": reason[:80]},
        ),
        kind="verify_back",
        key=f"verify_back:{event.pk}",
    )
    return demand


@transaction.atomic
def demand_verify_remind(*, demand: Demand | int) -> DemandEvent:
    """Nobody verified within DEMAND_VERIFY_HOURS working hours: remind the verifiers, once per wait.

    The state does not change (the holder's clock is not running, so there is nothing to escalate).
    The claim is a row lock taken by an UPDATE that changes nothing the pages read, then the check that
    no reminder was written since the wait began: two workers remind once.
    """
    demand = _reload(demand)
    now = clock.now()
    due = verify_due_at(demand)
    if due is None or due > now:
        raise Conflict(_("this demand is not past its time limit to verify"))
    # Lock the row (PostgreSQL) before looking for an earlier reminder; SQLite's write lock does the same.
    if not Demand.objects.filter(pk=demand.pk, state=State.VERIFYING, version=demand.version).update(
        updated_at=demand.updated_at
    ):
        raise _stale()
    if DemandEvent.objects.filter(demand=demand, action=OVERDUE_ACTION, at__gte=demand.resolved_at).exists():
        raise Conflict(_("the verifiers were already reminded"))
    note = in_chinese(
        _("Not verified within %(hours)s working hours of being resolved; the verifiers were reminded"),
        {"hours": f"{verify_hours():g}"},
    )
    event = _note_event(demand, action=OVERDUE_ACTION, note=note, actor_kind=ActorKind.SYSTEM, is_public=False, at=now)
    _tell_staff(
        demand,
        _verifier_recipients(demand),
        subject=in_chinese(_("Verification overdue %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("The demand “%(title)s” (%(code)s) has waited to be verified since %(since)s; please verify it on site."),
            {"title": demand.title, "code": demand.code, "since": _local(demand.resolved_at)},
        ),
        kind="verify_overdue",
        key=f"verify_overdue:{int(demand.resolved_at.timestamp())}",  # type: ignore[union-attr]
        dedupe=True,
    )
    return event
