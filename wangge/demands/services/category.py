"""A demand's category: the triage suggestion at intake, and the person who confirms or corrects it.

Demands never imports triage: the suggestion and the feedback store are callables named in
settings (`WANGGE_TRIAGE_SUGGEST`, `WANGGE_TRIAGE_FEEDBACK`), and neither may ever cost a demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.hooks import setting_callable
from wangge.demands.models import FINAL_STATES, Category, Demand, DemandEvent, State
from wangge.demands.permissions import is_staff
from wangge.demands.services._common import _note_event, _reload, in_chinese, log, one_by
from wangge.demands.services.moves import _require_holder

# --- the triage suggestion at intake --------------------------------------------------------


@dataclass(frozen=True)
class _Suggestion:
    category: Category | None
    confidence: float | None
    auto_apply: bool


def _suggest(title: str, description: str, known: Category | None = None) -> _Suggestion | None:
    """Triage's suggestion; `known` (the category already chosen, if any) is reused when it is the one
    suggested, so the common case reads no category twice."""
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
    if known is not None and code == known.code and known.is_active:
        category: Category | None = known
    else:
        category = Category.objects.filter(code=code, is_active=True).first() if code else None
    confidence = getattr(result, "confidence", None)
    return _Suggestion(
        category=category,
        confidence=float(confidence) if confidence is not None else None,
        auto_apply=bool(getattr(result, "auto_apply", False)),
    )


def _resolve_category(category: Any) -> Category | None:
    if category in (None, ""):
        return None
    if isinstance(category, Category):
        found: Category | None = category
    elif isinstance(category, int) or (isinstance(category, str) and category.isdigit() and len(category) > 4):
        found = Category.objects.filter(pk=int(category)).first()
    else:
        found = one_by(Category, code=category)
    if found is None or not found.is_active:
        raise ValidationFailed(_("unknown category"), field="category", code="bad_category")
    return found


# --- a person confirms or corrects the suggestion ------------------------------------------


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
            _("This demand is “%(state)s” now, so its category cannot change."),
            params={"state": State(demand.state).label},
        )
    if category in (None, ""):
        raise ValidationFailed(_("choose a category"), field="category", code="required")
    chosen = _resolve_category(category)
    assert chosen is not None
    before = demand.category
    now = clock.now()
    updated = Demand.objects.filter(pk=demand.pk, version=demand.version).update(
        category=chosen, version=F("version") + 1, updated_at=now
    )
    if not updated:
        raise Conflict(
            _("someone else changed this demand first; reload it and try again"),
        )
    accepted = demand.suggested_category_id == chosen.pk
    if accepted:
        verdict = _("suggestion confirmed")
    elif demand.suggested_category_id:
        verdict = _("suggestion corrected")
    else:
        verdict = _("chosen by a person")
    _note_event(
        demand,
        action="recategorise",
        note=in_chinese(
            _("Category: %(before)s → %(after)s (%(verdict)s)"),
            {"before": before or _("uncategorised"), "after": chosen, "verdict": verdict},
        ),
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
    if not is_staff(actor) or demand.created_by_id != actor.pk:
        raise PermissionDenied(_("only the person who filed it confirms its category"))
    if demand.category is None:
        raise ValidationFailed(_("this demand has no category yet"), field="category")
    if DemandEvent.objects.filter(demand=demand, action="recategorise").exists():
        return demand
    accepted = demand.suggested_category_id == demand.category_id
    suggested = demand.suggested_category
    _note_event(
        demand,
        action="recategorise",
        note=in_chinese(
            _("Category chosen when filed: %(category)s (suggestion: %(suggested)s)"),
            {"category": demand.category, "suggested": suggested or _("None")},
        ),
        actor=actor,
    )
    if suggested is not None:
        _triage_feedback(demand=demand, category=demand.category, actor=actor, accepted=accepted)
    return demand
