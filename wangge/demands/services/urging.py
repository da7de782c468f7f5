"""督办/催办 (urging): a level above the holder presses it to act; the holder's staff are pushed a message.

An urge moves nothing: the event ("urge", staff-only, as 12345 centres keep their supervision
internal), `Demand.urges` + 1 and one outbox row per holding staff member (WeCom card or the staff
channel), in one transaction. Who may urge is `permissions.can_urge`; only a running clock is urged
(the table allows URGE in the open states; a suspended demand is refused with its own message). The
same level may urge the same demand again only after `DEMAND_URGE_MIN_HOURS` working hours.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied
from wangge.core.text import clean_text
from wangge.demands.models import WAITING_STATES, Demand, DemandEvent, State
from wangge.demands.permissions import urging_path
from wangge.demands.services._common import _local, in_chinese
from wangge.demands.services.moves import _apply
from wangge.demands.services.notify import _holder_recipients, _tell_staff
from wangge.demands.transitions import Move
from wangge.holidays.workdays import add_working_hours
from wangge.registry.models import Area

MAX_URGE_NOTE = 1000


def urge_min_hours() -> float:
    return float(getattr(settings, "DEMAND_URGE_MIN_HOURS", 4))


def urge_next_allowed(*, demand: Demand, actor: User) -> dt.datetime | None:
    """When `actor`'s level may urge `demand` again (None: now). The level is the actor's role: among the
    levels above one holder there is one area per level, so the role names the urging area."""
    last = (
        DemandEvent.objects.filter(demand=demand, action=Move.URGE.value, actor__role=actor.role)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    if last is None:
        return None
    again = add_working_hours(last, urge_min_hours())
    return again if clock.now() < again else None


def _area_name(path: str) -> str:
    return Area.objects.filter(path=path).values_list("name", flat=True).first() or ""


@transaction.atomic
def demand_urge(*, demand: Demand, actor: User, note: str = "") -> Demand:
    """A level above the holder urges it (督办/催办); the holder's staff are pushed a message."""
    # Locked: two clicks of the same level at once give one urge and one refusal, not two urges.
    try:
        demand = (
            Demand.objects.select_for_update(of=("self",))
            .select_related("holder_area", "holder_department", "area", "category")
            .get(pk=demand.pk)
        )
    except Demand.DoesNotExist:
        raise NotFound(_("demand not found")) from None
    path = urging_path(demand=demand, user=actor)
    if path is None:
        raise PermissionDenied(
            _("only a level above the holder (%(holder)s) may urge this demand"),
            params={"holder": demand.holder_label},
            code="not_above",
        )
    if demand.state == State.SUSPENDED:
        raise Conflict(_("This demand is suspended (its clock is stopped); urge it once it resumes."))
    text = clean_text(note, field="note", label=pgettext_lazy("demand field", "urging note"), limit=MAX_URGE_NOTE)
    again = urge_next_allowed(demand=demand, actor=actor)
    if again is not None:
        raise Conflict(
            _("Your level urged this demand a short while ago; it may urge it again from %(at)s."),
            params={"at": _local(again)},
            code="urged_recently",
        )
    demand, event = _apply(
        demand=demand,
        move=Move.URGE,
        actor=actor,
        changes={"urges": F("urges") + 1},
        note=text,
        is_public=False,
        bump=False,
    )
    subject = in_chinese(_("Urged: demand %(code)s"), {"code": demand.code})
    body = in_chinese(
        _("%(who)s urges you to handle “%(title)s” (%(code)s), due %(due)s. %(note)s"),
        {
            "who": " ".join(p for p in (_area_name(path), actor.get_full_name() or actor.username) if p),
            "title": demand.title,
            "code": demand.code,
            "due": _local(demand.accept_due_at if demand.state in WAITING_STATES else demand.resolve_due_at),
            "note": text[:80],
        },
    )
    _tell_staff(demand, _holder_recipients(demand), subject=subject, body=body, kind="urged", key=f"urged:{event.pk}")
    return demand
