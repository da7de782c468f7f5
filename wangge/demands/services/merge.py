"""Merging a duplicate into an earlier demand (a move of the table, applied with `moves._apply`).

Every reporter stays informed: the duplicate's reporter and followers become followers of the demand it
joins, and each is told once.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.demands.models import FINAL_STATES, Demand, DemandFollower
from wangge.demands.permissions import can_see
from wangge.demands.services._common import _follower_add, _note_event, _reload, in_chinese
from wangge.demands.services.moves import _apply, _require_holder
from wangge.demands.services.notify import _tell_follower, _tell_resident
from wangge.demands.transitions import Move


@transaction.atomic
def demand_merge(*, demand: Demand, actor: User, into: Demand, version: int | None = None) -> Demand:
    """A duplicate joins an earlier demand; its reporter is told when the first one is resolved."""
    demand = _reload(demand)
    _require_holder(demand, actor, version)
    if into is None:
        raise ValidationFailed(_("choose the demand to merge into"), field="into")
    main = _reload(into)
    if main.pk == demand.pk:
        raise ValidationFailed(_("a demand cannot be merged into itself"), field="into")
    if main.state in FINAL_STATES:
        raise ValidationFailed(_("merge only into a demand that is still open or resolved"), field="into")
    if not can_see(demand=main, user=actor):
        raise ValidationFailed(_("the demand to merge into was not found"), field="into")
    now = clock.now()
    demand, event = _apply(
        demand=demand,
        move=Move.MERGE,
        actor=actor,
        version=version,
        changes={"merged_into": main, "closed_at": now},
        note=in_chinese(_("Merged into %(code)s"), {"code": main.code}),
    )
    _note_event(
        main,
        action=Move.COMMENT.value,
        note=in_chinese(_("Merged the duplicate demand %(code)s"), {"code": demand.code}),
        actor=actor,
        at=now,
    )
    _tell_resident(
        demand,
        body=in_chinese(
            _(
                "The problem you reported is the same as demand %(code)s; they are handled together and you"
                " will be told when it is resolved."
            ),
            {"code": main.code},
        ),
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
            body=in_chinese(
                _(
                    "The demand %(code)s you follow is the same as demand %(main)s; they are handled together"
                    " and you will be told when it is resolved."
                ),
                {"code": demand.code, "main": main.code},
            ),
            kind="merged",
        )
    return demand
