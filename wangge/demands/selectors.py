"""Reads of demands, every one filtered by the acting user's scope (or by the resident's token).

Who sees what is `wangge.demands.permissions` (`visible_q`, `held_q`); a resident sees one demand
through its private token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse

from wangge.accounts.scope import scope_for
from wangge.core import clock, geodesy
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.hooks import setting_callable
from wangge.core.phones import normalise_phone
from wangge.demands.models import (
    CALL_BACK_CHANNELS,
    OPEN_STATES,
    UNFINISHED_STATES,
    WAITING_STATES,
    CallBack,
    Category,
    Channel,
    Demand,
    DemandEvent,
    DemandFollower,
    State,
    Urgency,
)
from wangge.demands.permissions import held_q, offerable_q, visible_q
from wangge.registry.models import Area, Department
from wangge.registry.selectors import area_get

log = logging.getLogger("wangge.demands")


def _base() -> QuerySet[Demand]:
    return Demand.objects.select_related("category", "area", "holder_area", "holder_department", "holder_user")


# --- the demand filters (one definition for the list page, the console, the export and the API) ---


def is_phone(text: str) -> bool:
    """Whether a search text is a phone number (searched exactly, never by part)."""
    digits = normalise_phone(text)
    return digits.isdigit() and 7 <= len(digits) <= 12


_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no"}
MAX_DUE_WITHIN_HOURS = 72


def late_q(at: dt.datetime) -> Q:
    """Open demands late at `at`: past the limit to resolve, or still waiting past the limit to accept."""
    return Q(state__in=OPEN_STATES) & (Q(resolve_due_at__lt=at) | Q(state__in=WAITING_STATES, accept_due_at__lt=at))


def escalated_q() -> Q:
    """Demands held at the level they climbed to by escalation (a return down or a dispatch is not)."""
    return Q(escalations__gt=0, holder_department__isnull=True, holder_level=F("highest_level"))


@dataclass(frozen=True)
class DemandFilter:
    """The filters of every demand list, read from the same query parameters wherever they come from.

    The staff list page, the service-centre console, the Excel export (its saved parameters) and
    `GET /api/v1/demands` all build one with `from_params`, so a parameter means the same thing
    everywhere. `strict` (the API) answers malformed input with an error naming the parameter and
    keeps an unknown state or category as asked (it matches nothing); pages drop what they cannot
    read, so an old link still opens the list.
    """

    PARAMS: ClassVar[tuple[str, ...]] = (
        "state",
        "category",
        "urgency",
        "overdue",
        "waiting",
        "due_within",
        "escalated",
        "area",
        "channel",
        "date_from",
        "date_to",
        "q",
        "call_back",
    )

    state: str | None = None
    category: str | None = None  # a category code: that category and the ones below it
    urgency: str | None = None
    channel: str | None = None
    overdue: bool | None = None  # True: late now (to accept or to resolve); False: not late
    waiting: bool | None = None  # True: waiting for its holder to accept (new); False: accepted or closed
    due_within: int | None = None  # hours: not late now, late within that many hours
    escalated: bool | None = None  # True: held at the level it climbed to by escalation (not returned down)
    area: Area | None = None  # belonging to or held in this area or below (`area`, or `area_id` in the API)
    q: str | None = None  # a code (exact), a phone (exact), or words of the title, description or address
    date_from: dt.date | None = None  # received on or after this local day
    date_to: dt.date | None = None  # received on or before this local day
    # The call-back queue (回访): resolved, not rated by the resident, no reached call back yet, and
    # filed by a channel other than the resident page (an unanswered call leaves it in the queue).
    call_back: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, user: Any, strict: bool = False) -> DemandFilter:
        def text(name: str) -> str | None:
            value = params.get(name)
            return str(value).strip() or None if value is not None else None

        def choice(name: str, values: list[str]) -> str | None:
            value = text(name)
            return value if value in values or (strict and value) else None

        def day(name: str) -> dt.date | None:
            value = text(name)
            if value is None:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                if strict:
                    raise ValidationFailed("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD", field=name) from None
                return None

        def flag(name: str) -> bool | None:
            raw = params.get(name)
            value = str(raw).strip().lower() if raw not in (None, "") else ""
            found = True if value in _TRUE else False if value in _FALSE else None
            if strict and value and found is None:
                raise ValidationFailed(f"{name} 应为 true 或 false", f"{name} is true or false", field=name)
            return found

        def hours(name: str) -> int | None:
            value = text(name)
            if value is None:
                return None
            if value.isdigit() and 1 <= int(value) <= MAX_DUE_WITHIN_HOURS:
                return int(value)
            if strict:
                raise ValidationFailed(
                    f"{name} 应为 1 到 {MAX_DUE_WITHIN_HOURS} 的整数（小时）",
                    f"{name} is a whole number of hours from 1 to {MAX_DUE_WITHIN_HOURS}",
                    field=name,
                )
            return None

        call_back_text = str(params.get("call_back") or "").strip().lower()
        if strict and call_back_text and call_back_text not in _TRUE | _FALSE:
            raise ValidationFailed("call_back 应为 true 或 false", "call_back is true or false", field="call_back")

        category = text("category")
        if category and not strict and not Category.objects.filter(code=category).exists():
            category = None

        area = None
        area_name = "area_id" if params.get("area_id") not in (None, "") else "area"
        area_raw = text(area_name)
        if area_raw is not None:
            if strict:
                if not area_raw.isdigit():
                    raise ValidationFailed("区域编号应为整数", "an area id is a whole number", field=area_name)
                area = area_get(user=user, pk=int(area_raw))  # NotFound outside the scope
            elif area_raw.isdigit():
                found = Area.objects.filter(pk=int(area_raw)).first()
                # Outside the scope it filters nothing in: the list is scoped anyway, never widened.
                area = found if found is not None and scope_for(user).covers_path(found.path) else None

        return cls(
            state=choice("state", State.values),
            category=category,
            urgency=choice("urgency", Urgency.values),
            channel=choice("channel", Channel.values),
            overdue=flag("overdue"),
            waiting=flag("waiting"),
            due_within=hours("due_within"),
            escalated=flag("escalated"),
            area=area,
            q=text("q"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            call_back=call_back_text in _TRUE,
        )

    @property
    def phone(self) -> str:
        """The phone searched for (exactly), or "" when the search is words or a code."""
        return normalise_phone(self.q) if self.q and is_phone(self.q) else ""

    def apply(self, qs: QuerySet[Demand]) -> QuerySet[Demand]:
        if self.state:
            qs = qs.filter(state=self.state)
        if self.category:
            qs = qs.filter(Q(category__code=self.category) | Q(category__parent__code=self.category))
        if self.urgency:
            qs = qs.filter(urgency=self.urgency)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.area is not None:
            qs = qs.filter(Q(area_path__startswith=self.area.path) | Q(holder_path__startswith=self.area.path))
        if self.overdue is not None:
            late = late_q(clock.now())
            qs = qs.filter(late) if self.overdue else qs.exclude(late)
        if self.waiting is not None:
            waiting = Q(state__in=WAITING_STATES)
            qs = qs.filter(waiting) if self.waiting else qs.exclude(waiting)
        if self.due_within is not None:
            now = clock.now()
            qs = qs.filter(late_q(now + dt.timedelta(hours=self.due_within))).exclude(late_q(now))
        if self.escalated is not None:
            qs = qs.filter(escalated_q()) if self.escalated else qs.exclude(escalated_q())
        if self.phone:
            qs = qs.filter(reporter_phone=self.phone)  # exact: a phone is never matched by part
        elif self.q:
            q = self.q
            qs = qs.filter(
                Q(code__iexact=q) | Q(title__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q)
            )
        if self.date_from:
            qs = qs.filter(created_at__date__gte=self.date_from)
        if self.date_to:
            qs = qs.filter(created_at__date__lte=self.date_to)
        if self.call_back:
            reached = CallBack.objects.filter(demand=OuterRef("pk"), reached=True)
            qs = qs.filter(state=State.RESOLVED, satisfaction__isnull=True, channel__in=CALL_BACK_CHANNELS).exclude(
                Exists(reached)
            )
        return qs


def demand_list(*, user: Any, filters: DemandFilter | None = None) -> QuerySet[Demand]:
    """Demands inside the user's scope, newest first, with the filters of the worklists."""
    qs = _base().filter(visible_q(user))
    if filters is not None:
        qs = filters.apply(qs)
    return qs.order_by("-created_at", "-id")


def demand_get(*, user: Any, pk: int) -> Demand:
    """One demand inside the user's scope, or NotFound (never reveal what lies outside)."""
    demand = _base().filter(visible_q(user), pk=pk).first()
    if demand is None:
        raise NotFound("找不到该诉求", "demand not found")
    return demand


def demand_by_token(*, token: str) -> Demand:
    """The demand a resident follows by its private token; NotFound for a forged one."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    demand = _base().filter(tracking_token=token).first()
    # Compare in constant time as well, so the answer never depends on how much of a guess was right.
    if demand is None or not hmac.compare_digest(demand.tracking_token.encode(), token.encode()):
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    return demand


def tracking_path_by_short_code(*, code: str) -> str:
    """The private tracking page (reporter's or follower's) a short link opens; NotFound for an unknown code."""
    code = (code or "").strip().lower()
    if code and len(code) <= 16:
        token = Demand.objects.filter(short_code=code).values_list("tracking_token", flat=True).first()
        if token:
            return reverse("demands:track", args=[token])
        token = DemandFollower.objects.filter(short_code=code).values_list("token", flat=True).first()
        if token:
            return reverse("demands:follow_track", args=[token])
    raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")


def demand_timeline(*, demand: Demand, public: bool = False) -> QuerySet[DemandEvent]:
    """The demand's events in order with their photos; `public` keeps only what the resident may see."""
    qs = (
        DemandEvent.objects.filter(demand=demand)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )
    if public:
        qs = qs.filter(is_public=True)
    return qs


def my_queue(*, user: Any) -> QuerySet[Demand]:
    """Unfinished demands that the user's level or department holds: waiting to be accepted, in hand, or
    suspended (挂起: shown with its state; its clock is stopped)."""
    return _base().filter(held_q(user), state__in=UNFINISHED_STATES).order_by("resolve_due_at", "id")


def category_tree() -> list[Category]:
    """Active top-level categories, each with its active children prefetched (`children_active`)."""
    children = Prefetch(
        "children", queryset=Category.objects.filter(is_active=True).order_by("sort", "code"), to_attr="children_active"
    )
    return list(
        Category.objects.filter(parent__isnull=True, is_active=True).order_by("sort", "code").prefetch_related(children)
    )


def category_choices() -> list[Category]:
    """Active second-level categories (what a demand is filed under), in catalogue order."""
    return list(
        Category.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("parent__sort", "sort", "code")
    )


# --- followers ------------------------------------------------------------------------------


def follower_by_token(*, token: str) -> DemandFollower:
    """The follow a resident opens by their own private token; NotFound for a forged one."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    follower = DemandFollower.objects.select_related("demand").filter(token=token).first()
    if follower is None or not hmac.compare_digest(follower.token.encode(), token.encode()):
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    return follower


def demand_for_follower(*, follower: DemandFollower) -> Demand:
    """The demand a follower follows (their token is the credential; the page shows only public parts)."""
    return _base().get(pk=follower.demand_id)


def follower_after_merge(*, demand: Demand, phone: str) -> DemandFollower | None:
    """Where a merged demand's reporter or follower now follows: their row on the demand it joined."""
    if demand.state != State.MERGED or not demand.merged_into_id or not phone:
        return None
    return DemandFollower.objects.filter(demand_id=demand.merged_into_id, phone=phone).first()


# --- what triage says (through callables named in settings: demands never imports triage) -----


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


__all__ = [
    "DemandFilter",
    "State",
    "category_choices",
    "category_confirmed",
    "category_tree",
    "demand_by_token",
    "demand_duplicates",
    "demand_for_follower",
    "demand_get",
    "demand_list",
    "demand_suggestion",
    "demand_timeline",
    "department_suggestion",
    "escalated_q",
    "follower_after_merge",
    "follower_by_token",
    "intake_duplicates",
    "is_phone",
    "late_q",
    "my_queue",
    "text_suggestion",
]
