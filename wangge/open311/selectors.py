"""Which demands Open311 shows, and as what: scoped for a key, the public set (no personal data) without one.

A key reads through `demands.selectors.visible_q` with its service account, so its scope is the one
`accounts.scope.scope_for` gives. Without a key (allowed when OPEN311_PUBLIC_READ is on, as the spec
has it) the set is every demand of the jurisdiction except reports (举报: whistle-blowers are never
published), each shown as `demands.public.public_view` decides: the approved or consented text (else a
neutral sentence from the category), the village and road without house numbers, the point rounded
to about 100 m, no names.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import pgettext_lazy

from wangge.core.errors import render_both
from wangge.demands.models import UNFINISHED_STATES, Category, Demand, DemandEvent, State
from wangge.demands.permissions import confidential_q
from wangge.demands.public import neutral_both, public_view
from wangge.demands.selectors import visible_q
from wangge.open311.formats import w3c
from wangge.open311.models import Open311Submission
from wangge.registry.models import Area, Department, Household, Level

UNCLASSIFIED_CODE = "unclassified"
STATE_TEXT: dict[str, tuple[str, str]] = {
    State.SUBMITTED: ("待受理", "waiting to be accepted"),
    State.IN_PROGRESS: ("已受理，办理中", "accepted, in progress"),
    State.ESCALATED: ("已上报上级，待受理", "escalated to a higher level, waiting to be accepted"),
    State.RESOLVED: ("已办结", "resolved"),
    State.CLOSED: ("已关闭", "closed"),
    State.REJECTED: ("已驳回", "rejected"),
    State.MERGED: ("已合并为重复诉求", "merged as a duplicate"),
    State.REOPENED: ("已返工，待受理", "reopened, waiting to be accepted"),
    State.SUSPENDED: ("已挂起，暂停计时", "suspended, the clock is stopped"),
    State.VERIFYING: ("已办结，待现场核查", "resolved, waiting to be verified on site"),
}
# The richer state as mySociety's update statuses (lower case, as FixMyStreet reads them).
UPDATE_STATUS: dict[str, str] = {
    State.SUBMITTED: "open",
    State.IN_PROGRESS: "in_progress",
    State.ESCALATED: "internal_referral",
    State.RESOLVED: "fixed",
    State.CLOSED: "closed",
    State.REJECTED: "no_further_action",
    State.MERGED: "duplicate",
    State.REOPENED: "reopen",
    State.SUSPENDED: "action_scheduled",  # waiting on something outside anyone's control (挂起)
    State.VERIFYING: "in_progress",  # not fixed until verified on site (核查)
}
MAX_RESULTS = 1000


class Jurisdiction:
    """The deployment (OPEN311_JURISDICTION_ID) or one city of it (its area code)."""

    def __init__(self, path: str = "") -> None:
        self.path = path

    def q(self, field: str = "area_path") -> Q:
        return Q(**{f"{field}__startswith": self.path}) if self.path else Q()


def jurisdiction_for(value: str) -> Jurisdiction | None:
    """None when the id names no jurisdiction here (the caller answers 404)."""
    value = (value or "").strip()
    if not value or value == settings.OPEN311_JURISDICTION_ID:
        return Jurisdiction()
    city = Area.objects.filter(code=value, level=Level.CITY).only("path").first()
    return Jurisdiction(city.path) if city is not None else None


def service_categories() -> list[Category]:
    """What a demand is filed under (active second-level categories), in catalogue order."""
    return list(
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .order_by("parent__sort", "parent__code", "sort", "code")
    )


def service_get(code: str) -> Category | None:
    return (
        Category.objects.filter(code=code, is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .first()
    )


def readable(*, account: Any | None, jurisdiction: Jurisdiction) -> QuerySet[Demand]:
    """Demands this reader may see: the key's scope, or (account None) the public set."""
    qs = Demand.objects.filter(jurisdiction.q())
    if account is not None:
        return qs.filter(visible_q(account))
    return qs.exclude(confidential_q())


# What `request_out` reads of a demand (with `status_notes`, `holder_label` and `public_view`). A list is up to
# MAX_RESULTS requests: joining the areas, the holder, the merged-into demand and the submission into its query
# made PostgreSQL plan eleven tables, one of them the partitioned demands again (60–280 ms of planning at 1 M),
# and Django build every column of each, an area with its parsed boundary per row and level.
OUTPUT_FIELDS = (
    "code",
    "state",
    "category",
    "title",
    "description",
    "address",
    "area",
    "lat",
    "lng",
    "holder_area",
    "holder_department",
    "merged_into",
    "warning",
    "resolve_due_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
    # public_view: which text, and the names to redact from the reporter's own words
    "public_text",
    "public_approved_at",
    "publish_consent",
    "reporter_name",
    "household",
)
AREA_FIELDS = ("code", "name", "level", "parent")
# The area and its parents as far as request_out reads them: the address names three levels from the most
# specific up, and public_view looks for the village and the town, which for a grid is three levels up.
AREA_LEVELS_UP = 3


def output_rows(qs: QuerySet[Demand], *, public: bool) -> list[Demand]:
    """The demands of `qs` with what `request_out` reads: their own columns in one query, then each related
    row once for all of them, one `IN` query per table (per level for the areas)."""
    demands = list(qs.only(*OUTPUT_FIELDS))
    if demands:
        _attach(demands, "category", Category.objects.only("code", "name"))
        _attach_areas(demands)
        _attach(demands, "holder_department", Department.objects.only("name"))
        _attach(demands, "merged_into", Demand.objects.only("code"))
        if public:
            _attach(demands, "household", Household.objects.only("head_name"))
        submissions = Open311Submission.objects.only("demand", "media_urls").filter(demand__in=[d.pk for d in demands])
        by_demand = {s.demand_id: s for s in submissions}
        reverse = Demand._meta.get_field("open311_submission")
        for demand in demands:
            reverse.set_cached_value(demand, by_demand.get(demand.pk))  # type: ignore[union-attr,attr-defined]
    return demands


def _attach(demands: list[Demand], name: str, queryset: QuerySet[Any]) -> None:
    """Each demand's foreign key `name` from one query for all; a row that is gone reads as None, as a join."""
    field = Demand._meta.get_field(name)
    attname = field.get_attname()  # type: ignore[union-attr]
    ids = {getattr(d, attname) for d in demands} - {None}
    found = queryset.in_bulk(ids) if ids else {}
    for demand in demands:
        key = getattr(demand, attname)
        if key is not None:
            field.set_cached_value(demand, found.get(key))  # type: ignore[union-attr]


def _attach_areas(demands: list[Demand]) -> None:
    """Each demand's area with its parents AREA_LEVELS_UP levels up, and its holding area: one query per level."""
    by_id: dict[int, Area] = {}
    level = {d.area_id for d in demands} | {d.holder_area_id for d in demands}
    for _up in range(AREA_LEVELS_UP + 1):
        missing = level - by_id.keys() - {None}
        if missing:
            by_id.update(Area.objects.only(*AREA_FIELDS).in_bulk(missing))
        # one level up from every area of this level, also those already read (a holding village is a parent)
        level = {by_id[i].parent_id for i in level if i in by_id} - {None}
    parent = Area._meta.get_field("parent")
    for area in by_id.values():
        if area.parent_id in by_id:  # the top of the chain keeps its parent unread: nothing reads that far
            parent.set_cached_value(area, by_id[area.parent_id])
    for name in ("area", "holder_area"):
        field = Demand._meta.get_field(name)
        for demand in demands:
            key = getattr(demand, f"{name}_id")
            if key is not None:
                field.set_cached_value(demand, by_id.get(key))  # type: ignore[union-attr]


def status_of(demand: Demand) -> str:
    # Open until finished: a suspended demand (挂起) and a resolved one waiting for its verifier (核查) are open.
    return "open" if demand.state in UNFINISHED_STATES else "closed"


def status_notes(demand: Demand) -> str:
    """The richer state in Chinese and English, with who holds it (the spec's open/closed is too coarse)."""
    zh, en = STATE_TEXT.get(demand.state, (demand.state, demand.state))
    holder = demand.holder_label
    if demand.state == State.MERGED and demand.merged_into_id and demand.merged_into:
        zh, en = f"{zh}，并入 {demand.merged_into.code}", f"{en} into {demand.merged_into.code}"
    elif holder:
        zh, en = f"{zh}（{holder}）", f"{en} ({holder})"
    if demand.is_open and demand.warning == "red":
        zh, en = f"{zh}，已超时", f"{en}, overdue"
    return f"{zh} / {en} [state: {demand.state}]"


def _area_label(area: Area | None) -> str:
    """Grid, village or town names from the most specific up (the spec's address order)."""
    names: list[str] = []
    node = area
    while node is not None and node.level != Level.CITY and len(names) < 3:
        names.append(node.name)
        node = node.parent if node.parent_id else None
    return "，".join(names)


def request_out(demand: Demand, *, public: bool) -> dict[str, Any]:
    """One `request` element; never the reporter's name, phone or the tracking token.

    A keyed reader (staff scope) reads the demand as filed; the public reads `public_view` of it.
    """
    category = demand.category if demand.category_id else None
    submission = getattr(demand, "open311_submission", None)
    closed = demand.state not in UNFINISHED_STATES
    # For a closed request the spec wants the time it was closed.
    updated = (demand.closed_at or demand.resolved_at or demand.updated_at) if closed else demand.updated_at
    if public:
        seen = public_view(demand)
        description = neutral_both(demand) if seen.source == "neutral" else seen.description
        address = seen.address
        place = seen.village or (demand.area if demand.area_id else None)
        address_id = place.code if place is not None else None
        lat, lng = seen.lat, seen.lng
    else:
        description = demand.description
        address = demand.address or _area_label(demand.area)
        address_id = demand.area.code if demand.area_id else None
        lat, lng = demand.lat, demand.lng
    return {
        "service_request_id": demand.code,
        "status": status_of(demand),
        "status_notes": status_notes(demand),
        "service_name": category.name if category else "未分类",
        "service_code": category.code if category else UNCLASSIFIED_CODE,
        "description": description[:4000],
        "agency_responsible": demand.holder_label or None,
        "service_notice": None,
        "requested_datetime": w3c(demand.created_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": None if closed else w3c(demand.resolve_due_at),
        "address": address or None,
        "address_id": address_id,
        "zipcode": None,
        "lat": lat,
        "long": lng,
        "media_url": submission.media_urls[0] if submission is not None and submission.media_urls else None,
    }


def updates(*, demands: QuerySet[Demand], start: Any, end: Any) -> QuerySet[DemandEvent]:
    """Public events of readable demands in [start, end], oldest first, at most MAX_RESULTS."""
    return (
        DemandEvent.objects.filter(demand__in=demands.values("pk"), is_public=True, at__gte=start, at__lte=end)
        .select_related("demand")
        .order_by("at", "id")[:MAX_RESULTS]
    )


# Said in both languages in each update's description (the catalogue holds the Chinese).
MOVE_TEXT: dict[str, Any] = {
    "submit": pgettext_lazy("open311 update", "filed"),
    "accept": pgettext_lazy("open311 update", "accepted"),
    "resolve": pgettext_lazy("open311 update", "resolved"),
    "escalate": pgettext_lazy("open311 update", "escalated"),
    "auto_escalate": pgettext_lazy("open311 update", "escalated automatically (limit passed)"),
    "dispatch": pgettext_lazy("open311 update", "dispatched to a department"),
    "return_": pgettext_lazy("open311 update", "returned to a lower level"),
    "reassign": pgettext_lazy("open311 update", "reassigned"),
    "reject": pgettext_lazy("open311 update", "rejected"),
    "merge": pgettext_lazy("open311 update", "merged"),
    "reopen": pgettext_lazy("open311 update", "reopened"),
    "rate": pgettext_lazy("open311 update", "rated by the resident"),
    "comment": pgettext_lazy("open311 update", "new comment"),
    "add_info": pgettext_lazy("open311 update", "the resident added information"),
    "close": pgettext_lazy("open311 update", "closed"),
    "warn": pgettext_lazy("open311 update", "near or past the limit"),
    "verify": pgettext_lazy("open311 update", "verified on site"),
    "verify_back": pgettext_lazy("open311 update", "sent back by the verifier to be done again"),
}


def update_out(event: DemandEvent, *, public: bool) -> dict[str, Any]:
    """One `request_update` (mySociety's extension): public notes only for keys, a plain label otherwise."""
    state = event.to_state or event.demand.state
    text = MOVE_TEXT.get(event.action)
    zh, en = render_both(text) if text is not None else (event.action, event.action)
    description = f"{zh} / {en}"
    if not public and event.note:
        description = f"{description}：{event.note}"
    return {
        "update_id": str(event.pk),
        "service_request_id": event.demand.code,
        "status": UPDATE_STATUS.get(state, "open"),
        "updated_datetime": w3c(event.at),
        "description": description[:4000],
        "media_url": None,
        "external_status_code": state,
    }
