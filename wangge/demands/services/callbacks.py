"""Calling back (回访): staff phone the reporter of a resolved demand that did not come in by the
resident page (hotline, WeChat group, visit, staff) and record the answer.

A call back moves the demand only when the answer is bad: "not solved" or "unsatisfied" reopens it
by the same path as a resident's unsatisfied rating (`residents._reopen_unsatisfied`). A good answer
leaves the demand resolved (the resident may still rate; the sweep still closes it by silence), and
an unreached reporter only records the attempt. The answers count in 满意率 and 解决率
(wangge/dashboards/measures.py). Who may call back: `permissions.can_call_back`.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.demands.models import CALL_BACK_CHANNELS, CallBack, Demand, Satisfaction, State
from wangge.demands.permissions import can_call_back, can_see
from wangge.demands.services._common import MAX_TEXT, _choice, _note_event, _reload, in_chinese
from wangge.demands.services.moves import _check_version, _target
from wangge.demands.services.residents import _reopen_unsatisfied
from wangge.demands.transitions import Move


def _call_back_note(*, reached: bool, solved: bool | None, satisfaction: str | None, note: str) -> str:
    if not reached or not satisfaction:
        text = in_chinese(_("The reporter could not be reached"))
    else:
        text = in_chinese(
            _("Solved: %(solved)s; %(satisfaction)s"),
            {
                "solved": in_chinese(_("yes") if solved else _("no")),
                "satisfaction": in_chinese(Satisfaction(satisfaction).label),
            },
        )
    return f"{text}。{note}" if note else text


@transaction.atomic
def demand_call_back(
    *,
    demand: Demand,
    actor: User,
    reached: bool,
    solved: bool | None = None,
    satisfaction: str | None = None,
    note: str = "",
    version: int | None = None,
) -> CallBack:
    """Record one call back on a resolved demand; "not solved" or "unsatisfied" reopens it (返工)."""
    demand = _reload(demand)
    if not can_see(demand=demand, user=actor):
        raise NotFound(_("demand not found"))
    _check_version(demand, version)
    if demand.channel not in CALL_BACK_CHANNELS:
        raise ValidationFailed(
            _("a demand filed on the resident page is rated by the resident, not called back"), field="demand"
        )
    if demand.state != State.RESOLVED:
        _target(demand, Move.RATE)  # the same Conflict as a rating that comes too late or too early
    if not can_call_back(demand=demand, user=actor):
        raise PermissionDenied(
            _("only the level above the one that resolved it, or a city administrator, may call back"),
            code="not_call_back",
        )
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise ValidationFailed(_("the note is too long"), field="note")
    if reached:
        if solved is None:
            raise ValidationFailed(_("say whether the problem is solved"), field="solved", code="required")
        if not satisfaction:
            raise ValidationFailed(_("choose how satisfied the reporter is"), field="satisfaction", code="required")
        _choice(satisfaction, Satisfaction, field="satisfaction")
        solved = bool(solved)
    else:
        solved, satisfaction = None, None  # an unanswered call says nothing about the result
    bad = reached and (solved is False or satisfaction == Satisfaction.UNSATISFIED)
    if bad and not note:
        raise ValidationFailed(_("say what is still wrong"), field="note", code="required")
    now = clock.now()
    call = CallBack.objects.create(
        demand=demand, at=now, by=actor, reached=reached, solved=solved, satisfaction=satisfaction, note=note
    )
    text = _call_back_note(reached=reached, solved=solved, satisfaction=satisfaction, note=note)
    # Staff only: the clerk's note is about the call; the reopen that may follow is public.
    _note_event(demand, action="call_back", note=text, actor=actor, at=now)
    if bad:
        _reopen_unsatisfied(
            demand,
            changes={},
            note=in_chinese(_("Called back: %(note)s"), {"note": note}),
            reason=note,
            actor_kind="staff",
            actor=actor,
            version=version,
        )
    return call
