"""The worker's moves: climb a level when nobody accepts in time, flag a limit near or past, close a
resolved demand the resident never rated.

Each claims its demand with a condition on the UPDATE (`extra_filter`), so two workers sweeping at
once move a demand once and tell nobody twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import Conflict, ValidationFailed
from wangge.demands.models import OPEN_STATES, WAITING_STATES, ActorKind, Demand, State, WarningLevel
from wangge.demands.services._common import _local, _reload, in_chinese
from wangge.demands.services.moves import _apply, _escalation_changes, _parent_of_holder
from wangge.demands.services.notify import _above_recipients, _holder_recipients, _tell_arrival, _tell_staff
from wangge.demands.transitions import Move


@transaction.atomic
def demand_auto_escalate(*, demand: Demand | int) -> Demand:
    """Not accepted within the limit: climb one level by itself; both levels are told."""
    demand = _reload(demand)
    now = clock.now()
    if demand.state not in WAITING_STATES or demand.accept_due_at is None or demand.accept_due_at > now:
        raise Conflict(_("this demand is not past its limit to accept"))
    parent = _parent_of_holder(demand)
    lower_recipients = _holder_recipients(demand)
    lower_label = demand.holder_label
    demand, event = _apply(
        demand=demand,
        move=Move.AUTO_ESCALATE,
        actor_kind=ActorKind.SYSTEM,
        changes=_escalation_changes(demand, parent, now),
        note=in_chinese(
            _("Not accepted within the time limit; escalated automatically to %(area)s"), {"area": parent.name}
        ),
        # The claim: only a worker that still sees it overdue may move it.
        extra_filter={"accept_due_at__lte": now},
    )
    why = in_chinese(_("%(holder)s did not accept in time; escalated automatically"), {"holder": lower_label})
    _tell_arrival(demand, event, why=why)
    _tell_staff(
        demand,
        lower_recipients,
        subject=in_chinese(_("Demand escalated after its time limit %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _(
                "The demand “%(title)s” was not accepted within the time limit and was escalated automatically"
                " to %(area)s."
            ),
            {"title": demand.title, "area": parent.name},
        ),
        kind="auto_escalated",
        key=f"auto_escalated:{event.pk}",
    )
    return demand


WARNING_TEXTS = {
    WarningLevel.YELLOW: _("Yellow warning: the time limit to resolve is near"),
    WarningLevel.RED: _("Red warning: past the time limit to resolve"),
}


@transaction.atomic
def demand_warn(*, demand: Demand | int, level: str) -> Demand:
    """Flag a demand near (yellow) or past (red) its limit to resolve, once per level; holder and level above told."""
    demand = _reload(demand)
    if level not in (WarningLevel.YELLOW, WarningLevel.RED):
        raise ValidationFailed(_("unknown warning level %(level)s"), params={"level": level}, field="level")
    current = demand.warning
    if current == level or (current == WarningLevel.RED and level == WarningLevel.YELLOW):
        raise Conflict(_("this warning was already raised"))
    if demand.state not in OPEN_STATES:
        raise Conflict(_("this demand is no longer open"))
    label = in_chinese(WARNING_TEXTS[WarningLevel(level)])
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
    body = in_chinese(
        _("%(warning)s. The demand “%(title)s” (%(code)s) must be resolved by %(due)s; held by %(holder)s."),
        {
            "warning": label,
            "title": demand.title,
            "code": demand.code,
            "due": _local(demand.resolve_due_at),
            "holder": demand.holder_label,
        },
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
    """Close a resolved demand the resident has not rated within DEMAND_AUTO_CLOSE_DAYS.

    A demand waiting for its verifier (核查) is never closed; once verified, the days count from the
    verification (the resident was asked to rate only then)."""
    demand = _reload(demand)
    now = clock.now()
    cutoff = now - dt.timedelta(days=_silence_days())
    if demand.state != State.RESOLVED or demand.resolved_at is None or demand.resolved_at > cutoff:
        raise Conflict(_("this demand cannot be closed by silence yet"))
    claim: dict[str, Any] = {"resolved_at__lte": cutoff}
    if demand.verified_at is not None:
        if demand.verified_at > cutoff:
            raise Conflict(_("this demand cannot be closed by silence yet"))
        claim["verified_at__lte"] = cutoff
    demand, _event = _apply(
        demand=demand,
        move=Move.CLOSE,
        actor_kind=ActorKind.SYSTEM,
        changes={"closed_at": now},
        note=in_chinese(
            _("Not rated within %(days)s days of being resolved; closed automatically"), {"days": _silence_days()}
        ),
        extra_filter=claim,
    )
    return demand
