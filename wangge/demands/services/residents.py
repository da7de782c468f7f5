"""What residents (by token) and staff who see a demand do besides moving it: follow, rate, add
information, comment.

A resident's credential is the demand's tracking token (the reporter) or a follower's own token;
both are compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.demands.models import (
    UNFINISHED_STATES,
    ActorKind,
    Demand,
    DemandComment,
    DemandFollower,
    Satisfaction,
    State,
    Visibility,
)
from wangge.demands.permissions import can_see, is_confidential, is_staff
from wangge.demands.services._common import (
    MAX_TEXT,
    _choice,
    _clean_photos,
    _follower_add,
    _fresh_deadlines,
    _note_event,
    _reload,
    _required_text,
    _save_photos,
    _token_ok,
    in_chinese,
)
from wangge.demands.services.moves import _apply
from wangge.demands.services.notify import (
    _holder_recipients,
    _tell_arrival,
    _tell_follower,
    _tell_resident,
    _tell_staff,
)
from wangge.demands.transitions import Move


def _bad_token() -> PermissionDenied:
    return PermissionDenied(_("the tracking link is not valid"), field="token", code="bad_token")


# --- followers (the same problem, reported by a neighbour) ---------------------------------


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
    if is_confidential(demand):  # a report (举报) is never offered, so a follow of one is a forged request
        raise NotFound(_("demand not found"), field="demand")
    if demand.state not in UNFINISHED_STATES:  # a suspended or verifying demand is followed too
        raise Conflict(
            _("Demand %(code)s is “%(state)s” and can no longer be followed; please report yours"),
            params={"code": demand.code, "state": State(demand.state).label},
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
        note=in_chinese(
            _("Another resident (%(phone)s) reported the same problem and follows this demand instead"),
            {"phone": follower.phone_masked},
        ),
        actor=None,
        actor_kind=ActorKind.RESIDENT,
        at=now,
        follower=follower,
    )
    _tell_follower(
        demand,
        phone,
        body=in_chinese(
            _("You follow demand %(code)s (%(title)s); you will be told by SMS when it is resolved."),
            {"code": demand.code, "title": demand.title[:30]},
        ),
        kind="followed",
    )
    return follower


def _follower_phone(phone: str) -> str:
    from wangge.core.phones import clean_phone

    missing = _("Please give your phone number to be told when it is resolved")
    return clean_phone(phone, field="phone", required=True, missing=missing)


@transaction.atomic
def demand_follower_comment(*, follower: DemandFollower, token: str, body: str) -> DemandComment:
    """A follower leaves a public remark by their own token (they may not rate or add information)."""
    if not token or not hmac.compare_digest(str(follower.token).encode(), str(token).encode()):
        raise _bad_token()
    body = _required_text(body, field="body", label="comment", limit=1000)
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


# --- the reporter's moves -----------------------------------------------------------------


@transaction.atomic
def demand_rate(
    *, demand: Demand, satisfaction: str, reason: str = "", token: str, solved: bool | None = None
) -> Demand:
    """The resident rates a resolved demand: satisfied closes it, unsatisfied reopens it to the same holder.

    `solved` is the optional answer to "is the problem solved?" (问题是否解决); it is kept with the
    first rating only (`rated_solved`, counted by 解决率) and changes nothing else.
    """
    demand = _reload(demand)
    if not _token_ok(demand, token):
        raise _bad_token()
    _choice(satisfaction, Satisfaction, field="satisfaction")
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(_("the reason is too long"), field="reason")
    satisfied = satisfaction != Satisfaction.UNSATISFIED
    if not satisfied and not reason:
        raise ValidationFailed(_("say why you are unsatisfied"), field="reason", code="required")
    now = clock.now()
    changes: dict[str, Any] = {"satisfaction": satisfaction, "rating_reason": reason, "rated_at": now}
    if demand.rated_at is None and solved is not None:
        changes["rated_solved"] = solved
    label = Satisfaction(satisfaction).label
    if satisfied:
        changes["closed_at"] = now
        note = in_chinese(label)
        if reason:
            note = in_chinese(_("%(rating)s. %(reason)s"), {"rating": label, "reason": reason}).strip("。")
        demand, _event = _apply(
            demand=demand,
            move=Move.RATE,
            actor_kind=ActorKind.RESIDENT,
            changes=changes,
            note=note,
            facts={"satisfied": True},
        )
        return demand
    demand = _reopen_unsatisfied(
        demand,
        changes=changes,
        note=in_chinese(_("%(rating)s: %(reason)s"), {"rating": label, "reason": reason}),
        reason=reason,
        actor_kind=ActorKind.RESIDENT,
    )
    return demand


def _reopen_unsatisfied(
    demand: Demand,
    *,
    changes: dict[str, Any],
    note: str,
    reason: str,
    actor_kind: str,
    actor: User | None = None,
    version: int | None = None,
) -> Demand:
    """The one path of an unsatisfied answer (a resident's rating or a call back, 回访): the demand is
    reopened (返工) to the same holder with fresh limits; the resident and the holder are told."""
    changes = {**changes, **_fresh_deadlines(demand, clock.now())}
    demand, event = _apply(
        demand=demand,
        move=Move.RATE,
        actor=actor,
        actor_kind=actor_kind,
        version=version,
        changes=changes,
        note=note,
        facts={"satisfied": False},
        # The rating's consequence is what the timeline shows: a reopen (返工) to the same holder.
        record_as=Move.REOPEN,
    )
    _tell_resident(
        demand,
        body=in_chinese(
            _("Your demand %(code)s was sent back to %(holder)s to be done again."),
            {"code": demand.code, "holder": demand.holder_label},
        ),
        kind="reopened",
        key=f"reopened:{event.pk}",
    )
    why = in_chinese(_("The resident is not satisfied; done again (%(reason)s)"), {"reason": reason[:40]})
    _tell_arrival(demand, event, why=why)
    return demand


@transaction.atomic
def demand_add_info(*, demand: Demand, token: str, text: str, photos: Iterable[Any] = ()) -> Demand:
    """The resident adds words or photos to an open or resolved demand; the holder is told."""
    demand = _reload(demand)
    if not _token_ok(demand, token):
        raise _bad_token()
    text = (text or "").strip()
    cleaned = _clean_photos(photos)
    if not text and not cleaned:
        raise ValidationFailed(_("add some text or a photo"), field="text", code="required")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(_("the text is too long"), field="text")
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
        subject=in_chinese(_("A resident added information %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("A resident added to the demand “%(title)s”: %(text)s"), {"title": demand.title, "text": text[:80]}
        ),
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
    body = _required_text(body, field="body", label="comment")
    if actor is not None and is_staff(actor):
        if actor.role == Role.AUDITOR:
            raise PermissionDenied(_("auditors may only read"), code="read_only")
        if not can_see(demand=demand, user=actor):
            raise NotFound(_("demand not found"))
        _choice(visibility, Visibility, field="visibility")
        by_resident, actor_kind = False, ActorKind.STAFF
    elif token is not None:
        if not _token_ok(demand, token):
            raise _bad_token()
        visibility, by_resident, actor_kind, actor = Visibility.PUBLIC, True, ActorKind.RESIDENT, None
    else:
        raise PermissionDenied(_("sign in or use the tracking link"))
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
