"""The only writers of visits and opinions.

A visit, its opinions and the demand raised on it are one step: the demand goes through the one
intake service (`demand_submit`, channel "visit") inside the visit's transaction, so a refused
demand leaves no visit behind and a logged visit never lacks the demand it promised the resident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.phones import is_valid_phone, normalise_phone
from wangge.core.text import clean_text
from wangge.registry.models import ChangeKind, Household
from wangge.registry.services import household_update
from wangge.visits.models import FOLLOW_UP_NEXT, FollowUp, How, Opinion, OpinionCategory, Visit

MAX_NOTES = 5000
MAX_OPINION = 2000
MAX_OPINIONS = 20
# A phone's clock may run a little fast; a visit further in the future than this is a mistake.
FUTURE_SLACK = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class VisitResult:
    """What `visit_log` gives back: the visit, and whether it is an earlier one found by its idempotency key."""

    visit: Visit
    replayed: bool


@dataclass(frozen=True)
class OpinionDraft:
    """One opinion heard on a visit, before it is written."""

    text: str
    category: str = OpinionCategory.OTHER


@dataclass(frozen=True)
class RegisterDraft:
    """What the leader saw change on the visit: care tags ticked or unticked, the family gone.

    Written through the register's one writer (`registry.services.household_update`, kind "visit"),
    against the household version the form was opened on.
    """

    version: int
    care_tags: tuple[str, ...] | None = None
    moved_out: bool | None = None


@dataclass(frozen=True)
class DemandDraft:
    """What a resident asked for on a visit; becomes a Demand through `demand_submit`."""

    description: str
    title: str = ""
    category: Any = None
    urgency: str = "normal"
    kind: str = "help"
    photos: tuple[Any, ...] = field(default_factory=tuple)


def _may_write(actor: Any, path: str, *, outside: Any) -> None:
    """Only active staff, not read-only, whose scope covers the household's area may write.

    `outside` is the (lazy) message that refuses a person whose scope does not cover `path`.
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("you must be logged in"), code="not_staff")
    scope = scope_for(actor)
    if scope.read_only or actor.role == Role.AUDITOR:
        raise PermissionDenied(_("a read-only account cannot write"), code="read_only")
    if not scope.covers_path(path):
        raise PermissionDenied(outside, field="household")


def _opinion_drafts(opinions: Iterable[OpinionDraft | Mapping[str, Any]]) -> list[OpinionDraft]:
    drafts = [o if isinstance(o, OpinionDraft) else OpinionDraft(**dict(o)) for o in opinions or ()]
    if len(drafts) > MAX_OPINIONS:
        raise ValidationFailed(
            _("at most %(limit)s opinions per visit"),
            params={"limit": MAX_OPINIONS},
            field="opinions",
        )
    clean = []
    for i, draft in enumerate(drafts):
        text = clean_text(
            draft.text,
            field=f"opinions.{i}.text",
            label=pgettext_lazy("visit field", "opinion"),
            limit=MAX_OPINION,
            required=True,
        )
        category = draft.category or OpinionCategory.OTHER
        if category not in OpinionCategory.values:
            raise ValidationFailed(
                _("unknown opinion category: %(category)s"),
                params={"category": category},
                field=f"opinions.{i}.category",
            )
        clean.append(OpinionDraft(text=text, category=category))
    return clean


def _visited_at(value: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise ValidationFailed(_("visited_at needs a time zone"), field="visited_at")
    if value > now + FUTURE_SLACK:
        raise ValidationFailed(_("a visit cannot be in the future"), field="visited_at")
    return value


def _replayed(key: str, visitor: User) -> Visit | None:
    existing = Visit.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if existing.visitor_id != visitor.pk:
        raise Conflict(_("this idempotency key was used by someone else"), field="idempotency_key")
    return existing


def _raise_demand(visit: Visit, household: Household, draft: DemandDraft, visitor: User, key: str | None) -> Any:
    # Imported here: demands is a lower layer than visits, and its services import much.
    from wangge.demands.models import Channel
    from wangge.demands.services import demand_submit

    phone = normalise_phone(household.phone)
    try:
        return demand_submit(
            channel=Channel.VISIT,
            title=draft.title,
            description=draft.description,
            kind=draft.kind or "help",
            category=draft.category or None,
            urgency=draft.urgency or "normal",
            reporter_name=household.head_name,
            # The household's phone (if it is a real number) lets the resident follow the demand by SMS.
            reporter_phone=phone if is_valid_phone(phone) else "",
            household=household,
            address=household.address,
            photos=draft.photos,
            actor=visitor,
            idempotency_key=f"visit:{key}" if key else None,
        ).demand
    except ValidationFailed as exc:
        # Say which part of the one form was wrong: the demand's fields, not the visit's.
        raise ValidationFailed(
            exc.zh, exc.en, field=f"demand.{exc.field}" if exc.field else "demand", code=exc.code
        ) from exc


@transaction.atomic
def visit_log(
    *,
    visitor: User,
    household: Household,
    how: str = How.IN_PERSON,
    notes: str = "",
    visited_at: dt.datetime | None = None,
    opinions: Iterable[OpinionDraft | Mapping[str, Any]] = (),
    demand: DemandDraft | Mapping[str, Any] | None = None,
    register: RegisterDraft | None = None,
    idempotency_key: str | None = None,
) -> VisitResult:
    """Log a visit to a household in the visitor's scope, with its opinions and the demand raised, all or nothing.

    A repeated `idempotency_key` (a double tap on a slow network) gives back the first visit with
    `replayed=True` and writes nothing. `register` changes the household's record in the same
    transaction (a stale version refuses the whole visit with a `Conflict`).
    """
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 128:
            raise ValidationFailed(_("idempotency key is longer than 128 characters"), field="idempotency_key")
        existing = _replayed(key, visitor)
        if existing is not None:
            return VisitResult(visit=existing, replayed=True)
    _may_write(visitor, household.area_path, outside=_("you may only log visits to households in your area"))
    if how not in How.values:
        raise ValidationFailed(_("unknown way of visiting: %(how)s"), params={"how": how}, field="how")
    notes = clean_text(
        notes, field="notes", label=pgettext_lazy("visit field", "notes"), limit=MAX_NOTES, required=False
    )
    drafts = _opinion_drafts(opinions)
    demand_draft = DemandDraft(**dict(demand)) if isinstance(demand, Mapping) else demand
    now = clock.now()
    when = _visited_at(visited_at, now)

    visit = Visit(
        visitor=visitor,
        household=household,
        grid_id=household.grid_id,
        area_path=household.area_path,
        visited_at=when,
        how=how,
        notes=notes,
        idempotency_key=key,
        created_at=now,
    )
    if key is None:
        visit.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                visit.save(force_insert=True)
        except IntegrityError:
            # Two taps raced: the other one got in first; hand back its visit.
            existing = _replayed(key, visitor)
            if existing is None:
                raise
            return VisitResult(visit=existing, replayed=True)
    Opinion.objects.bulk_create(
        [
            Opinion(
                visit=visit,
                household=household,
                area_path=household.area_path,
                text=d.text,
                category=d.category,
                created_at=when,  # heard on the visit, even when the visit is logged later
            )
            for d in drafts
        ]
    )
    if register is not None:
        household_update(
            household=household,
            by=visitor,
            version=register.version,
            care_tags=list(register.care_tags) if register.care_tags is not None else None,
            moved_out=register.moved_out,
            kind=ChangeKind.VISIT,
        )
    if demand_draft is not None:
        visit.demand = _raise_demand(visit, household, demand_draft, visitor, key)
        visit.save(update_fields=["demand"])
    return VisitResult(visit=visit, replayed=False)


@transaction.atomic
def opinion_follow_up(*, opinion: Opinion, actor: User, state: str, answer: str = "") -> Opinion:
    """Move an opinion forward (noted → adopted → answered); answering needs the answer given to the resident."""
    _may_write(actor, opinion.area_path, outside=_("you may only follow up opinions in your area"))
    if state not in FollowUp.values:
        raise ValidationFailed(_("unknown follow-up state: %(state)s"), params={"state": state}, field="state")
    current = Opinion.objects.filter(pk=opinion.pk).values_list("state", flat=True).first()
    if current is None or state not in FOLLOW_UP_NEXT.get(current, ()):
        raise Conflict(
            _("this opinion is %(current)s; it cannot become %(state)s"),
            params={"current": FollowUp(current).label if current else "", "state": FollowUp(state).label},
            field="state",
        )
    now = clock.now()
    changes: dict[str, Any] = {"state": state}
    if state == FollowUp.ANSWERED:
        changes["answer"] = clean_text(
            answer, field="answer", label=pgettext_lazy("visit field", "answer"), limit=MAX_OPINION, required=True
        )
        changes["answered_by"] = actor
        changes["answered_at"] = now
    else:
        changes["adopted_by"] = actor
        changes["adopted_at"] = now
    # Conditional on the state read above: of two people following up at once, one wins.
    if not Opinion.objects.filter(pk=opinion.pk, state=current).update(**changes):
        raise Conflict(_("someone else followed up this opinion first; reload it"))
    return Opinion.objects.select_related("visit", "household", "answered_by", "adopted_by").get(pk=opinion.pk)
