"""What triage says about demands, asked through callables named in settings (demands never imports triage):
possible duplicates (`permissions.offerable_q`) and the category suggestion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed
from wangge.core.hooks import setting_callable
from wangge.demands.models import UNFINISHED_STATES, Category, Demand, DemandEvent
from wangge.demands.permissions import offerable_q, visible_q
from wangge.registry.models import Area, Department

log = logging.getLogger("wangge.demands")


@dataclass(frozen=True)
class DuplicateOffer:
    """An open demand that looks like the one being written: shown by code, public title and place,
    state, and how far it is (metres, when both points are known)."""

    demand: Demand
    score: float
    reason: str
    distance_m: float | None = None


def _duplicates(*, user: Any, visible: Q | None = None, **kwargs: Any) -> list[DuplicateOffer]:
    """Triage's candidates that `user` may be offered (`permissions.offerable_q`; None: an anonymous resident)."""
    func = setting_callable("WANGGE_TRIAGE_DUPLICATES")
    if func is None:
        return []
    try:
        found = list(func(**kwargs))
    except Exception:  # a duplicate hint is a help, never a reason to refuse a report or a page
        log.exception("duplicate lookup failed; going on without it")
        return []
    allowed = Demand.objects.filter(offerable_q(user) & (visible or Q()), pk__in=[c.demand.pk for c in found])
    ids = set(allowed.values_list("pk", flat=True))
    return [
        DuplicateOffer(
            demand=c.demand,
            score=float(getattr(c, "score", 0.0)),
            reason=str(getattr(c, "reason", "")),
            distance_m=getattr(c, "distance_m", None),
        )
        for c in found
        if c.demand.pk in ids
    ]


def nearest_first(offers: list[DuplicateOffer]) -> list[DuplicateOffer]:
    """Offers by distance (those without a known distance last), the better match first at equal distance."""
    return sorted(offers, key=lambda o: (o.distance_m is None, o.distance_m or 0.0, -o.score))


def intake_duplicates(
    *,
    title: str,
    description: str,
    category: Category | None = None,
    grid: Area | None = None,
    area: Area | None = None,
    lat: float | None = None,
    lng: float | None = None,
    datum: str = "wgs84",
    address: str = "",
    idempotency_key: str | None = None,
) -> list[DuplicateOffer]:
    """Open demands near where a new one would go that look the same (asked before the new one is made),
    nearest first: a resident recognises their problem by where it is.

    None for a page already sent (its idempotency key filed a demand): a resend must find its own
    demand again, not be offered that demand as someone else's.
    """
    from wangge.demands import routing

    if idempotency_key and Demand.objects.filter(idempotency_key=idempotency_key).exists():
        return []

    if lat is not None and lng is not None and datum in geodesy.DATUMS:
        lat, lng = geodesy.convert(lat, lng, datum, geodesy.WGS84)  # stored points are WGS-84
    try:
        target = routing.route(grid=grid, area=area, lat=lat, lng=lng, address=address)
    except ValidationFailed:
        return []  # the intake itself will say what is wrong with the place
    offers = _duplicates(
        user=None,
        title=title,
        description=description,
        area_path=target.path,
        category_code=category.code if category is not None else None,
        lat=lat,
        lng=lng,
        address=address,
    )
    return nearest_first(offers)


def demand_duplicates(*, demand: Demand, user: Any) -> list[DuplicateOffer]:
    """Open demands inside the user's scope that look like this one (a merge suggestion for staff)."""
    if demand.state not in UNFINISHED_STATES:
        return []
    return _duplicates(
        user=user,
        visible=visible_q(user),
        title=demand.title,
        description=demand.description,
        area_path=demand.area_path,
        category_code=demand.category.code if demand.category_id and demand.category else None,
        lat=demand.lat,
        lng=demand.lng,
        address=demand.address,
        exclude_id=demand.pk,
    )


@dataclass(frozen=True)
class CategorySuggestion:
    """The triage suggestion as the staff pages show it: a category, how sure, and why."""

    category: Category | None
    confidence: float | None
    explanation: str
    source: str


def text_suggestion(*, title: str, description: str = "") -> CategorySuggestion | None:
    """What triage suggests for a text (the staff intake form asks while staff type)."""
    func = setting_callable("WANGGE_TRIAGE_SUGGEST")
    if func is None or not (title or description).strip():
        return None
    try:
        result = func(title=title, description=description)
    except Exception:
        log.exception("triage suggestion failed; the page goes on without it")
        return None
    code = getattr(result, "category_code", None) if result is not None else None
    category = Category.objects.filter(code=code, is_active=True).select_related("parent").first() if code else None
    if category is None:
        return None
    confidence = getattr(result, "confidence", None)
    return CategorySuggestion(
        category=category,
        confidence=float(confidence) if confidence is not None else None,
        explanation=str(getattr(result, "explanation", "") or ""),
        source=str(getattr(result, "source", "") or ""),
    )


@dataclass(frozen=True)
class DepartmentSuggestion:
    """Where triage thinks a demand should be dispatched, how sure, and on what ground.

    `source`: "model" (learned from where demands were actually dispatched), "category" (the
    category's default department), "rule" (a keyword rule's department)."""

    department: Department
    confidence: float | None
    source: str


def department_suggestion(*, demand: Demand) -> DepartmentSuggestion | None:
    """The department to offer on the dispatch form: one of the demand's city, active, or None."""
    func = setting_callable("WANGGE_TRIAGE_SUGGEST")
    if func is None:
        return None
    category = demand.category.code if demand.category_id and demand.category else None
    try:
        # The category staff chose (if any) names its default department; the text names the rest.
        result = func(title=demand.title, description=demand.description, category_code=category)
    except Exception:
        log.exception("triage suggestion failed; the page goes on without it")
        return None
    code = getattr(result, "department_code", None) if result is not None else None
    if not code:
        return None
    city_path = demand.area_path.split("/", 1)[0] + "/"
    department = Department.objects.filter(code=code, area_path=city_path, is_active=True).first()
    if department is None:
        return None
    confidence = getattr(result, "department_confidence", None)
    return DepartmentSuggestion(
        department=department,
        confidence=float(confidence) if confidence is not None else None,
        source=str(getattr(result, "department_source", "") or ""),
    )


def category_confirmed(*, demand: Demand) -> bool:
    """True once a person chose the category (confirmed, corrected, or picked it when filing)."""
    return DemandEvent.objects.filter(demand=demand, action="recategorise").exists()


def demand_suggestion(*, demand: Demand) -> CategorySuggestion | None:
    """The suggestion to show on a demand while no person has decided its category, else None.

    Shown when the demand has no category, or when the category is the machine's (applied from the
    suggestion) and nobody has confirmed it yet. The explanation is asked afresh; the stored
    suggestion stands when triage has nothing to say now.
    """
    if demand.category_id is not None and demand.category_id != demand.suggested_category_id:
        return None
    if category_confirmed(demand=demand):
        return None
    live = text_suggestion(title=demand.title, description=demand.description)
    if live is not None:
        return live
    if demand.suggested_category_id is None:
        return None
    return CategorySuggestion(
        category=demand.suggested_category,
        confidence=demand.suggestion_confidence,
        explanation="",
        source="stored",
    )
