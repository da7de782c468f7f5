"""Reads of facilities, every one filtered by the acting user's scope.

Who sees a facility: staff whose areas contain it (town, village, branch, grid; city administrators
and auditors the whole city), staff of its managing department, and its own directors. Inspections,
photos, missed inspections and directors' records follow the facility.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Trunc
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.facilities import rules
from wangge.facilities.models import (
    LEVEL_ORDER,
    Facility,
    FacilityDirector,
    FacilityType,
    Inspection,
    InspectionItem,
    InspectionPhoto,
    MissedInspection,
    Result,
    RulePeriod,
)


def visible_q(user: Any, prefix: str = "") -> Q:
    """Facilities (or rows of a facility, with `prefix` = "facility__") this user may see."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q = scope.area_q(f"{prefix}area_path") if scope.area_paths else Q(pk__in=[])
    if scope.department_ids:
        q |= scope.department_q(f"{prefix}department_id")
    if user.role != Role.INTEGRATION:
        directed = FacilityDirector.objects.filter(user=user, is_active=True).values("facility_id")
        q |= Q(**{f"{prefix}pk__in": directed})
    return q


def facility_types() -> QuerySet[FacilityType]:
    return FacilityType.objects.filter(is_active=True).prefetch_related("checklist")


def _open_demand_count() -> Subquery:
    from wangge.demands.models import UNFINISHED_STATES, Demand

    return Subquery(
        Demand.objects.filter(inspection_items__inspection__facility=OuterRef("pk"), state__in=UNFINISHED_STATES)
        .order_by()
        .values("inspection_items__inspection__facility")
        .annotate(n=Count("id", distinct=True))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def _annotated(qs: QuerySet[Facility]) -> QuerySet[Facility]:
    last = Inspection.objects.filter(facility=OuterRef("pk")).order_by("-at", "-id")
    return qs.select_related("facility_type", "area", "department").annotate(
        last_inspected_at=Subquery(last.values("at")[:1]),
        last_result=Subquery(last.values("result")[:1]),
        open_demands=_open_demand_count(),
    )


def facility_state(facility: Facility) -> str:
    """never (not inspected yet), failing (an open demand or the last inspection failed), or ok."""
    if getattr(facility, "open_demands", None):
        return "failing"
    result = getattr(facility, "last_result", None)
    if result is None:
        return "never"
    return "failing" if result == Result.FAIL else "ok"


def facility_list(
    *,
    user: Any,
    q: str = "",
    type_code: str | None = None,
    state: str | None = None,
    mine: bool = False,
) -> QuerySet[Facility]:
    """Facilities the user may see, with their last inspection and the number of open demands they raised."""
    qs = Facility.objects.filter(visible_q(user), is_active=True)
    if mine:
        qs = qs.filter(pk__in=FacilityDirector.objects.filter(user=user, is_active=True).values("facility_id"))
    if type_code:
        qs = qs.filter(facility_type__code=type_code)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(address__icontains=q))
    annotated: Any = _annotated(qs)  # the annotations are fields the type checker cannot see
    qs = annotated
    if state == "failing":
        qs = qs.filter(Q(open_demands__gt=0) | Q(last_result=Result.FAIL))
    elif state == "never":
        qs = qs.filter(last_inspected_at__isnull=True)
    elif state == "ok":
        qs = qs.filter(last_result=Result.PASS).exclude(open_demands__gt=0)
    return qs.order_by("area_path", "code")


def facility_get(*, user: Any, pk: int | str) -> Facility:
    try:
        return _annotated(Facility.objects.filter(visible_q(user))).get(pk=int(pk))
    except (Facility.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("facility not found"), field="facility") from None


def facility_directors(facility: Facility, *, include_ended: bool = False) -> list[FacilityDirector]:
    """The facility's directors, highest level first (ended ones after the active ones when asked)."""
    qs = FacilityDirector.objects.filter(facility=facility).select_related("user")
    if not include_ended:
        qs = qs.filter(is_active=True)
    order = {level.value: i for i, level in enumerate(LEVEL_ORDER)}
    return sorted(qs, key=lambda d: (not d.is_active, order.get(d.level, 9), -d.pk))


def inspectable_directors(*, user: Any, facility: Facility) -> list[FacilityDirector]:
    """Whose inspection this user may record here: their own directorships, and directors without an account
    when the user is area staff of the facility (recorded on their behalf)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.role in (Role.AUDITOR, Role.INTEGRATION):
        return []
    scope = scope_for(user)
    on_behalf = user.role != Role.DEPARTMENT and scope.covers_path(facility.area_path)
    return [d for d in facility_directors(facility) if d.user_id == user.pk or (on_behalf and d.user_id is None)]


def inspection_list(
    *, user: Any, facility: Facility | None = None, director: FacilityDirector | None = None
) -> QuerySet[Inspection]:
    qs = Inspection.objects.filter(visible_q(user, "facility__")).select_related(
        "facility__facility_type", "director", "recorded_by"
    )
    if facility is not None:
        qs = qs.filter(facility=facility)
    if director is not None:
        qs = qs.filter(director=director)
    return qs.annotate(
        failed_items=Count("items", filter=Q(items__passed=False)),
    ).order_by("-at", "-id")


def inspection_get(*, user: Any, pk: int | str) -> Inspection:
    try:
        return (
            Inspection.objects.filter(visible_q(user, "facility__"))
            .select_related("facility__facility_type", "facility__area", "director", "recorded_by")
            .get(pk=int(pk))
        )
    except (Inspection.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("inspection not found"), field="inspection") from None


def inspection_items(inspection: Inspection) -> list[InspectionItem]:
    return list(
        inspection.items.select_related("demand", "checklist_item")
        .prefetch_related("photos")
        .order_by("checklist_item__sort", "id")
    )


def photo_get(*, user: Any, pk: int | str) -> InspectionPhoto:
    try:
        return InspectionPhoto.objects.filter(visible_q(user, "inspection__facility__")).get(pk=int(pk))
    except (InspectionPhoto.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("photo not found")) from None


def missed_list(*, user: Any, facility: Facility | None = None) -> QuerySet[MissedInspection]:
    qs = MissedInspection.objects.filter(visible_q(user, "facility__")).select_related("director", "facility")
    if facility is not None:
        qs = qs.filter(facility=facility)
    return qs.order_by("-period_start", "id")


# --- directors' records ---------------------------------------------------------------------


@dataclass
class PeriodCount:
    start: dt.date
    end: dt.date  # exclusive
    done: int
    required: int

    @property
    def met(self) -> bool:
        return self.done >= self.required


@dataclass
class DirectorRecord:
    """One director's record over a window: inspections done against the rule, per complete period."""

    director: FacilityDirector
    periods: list[PeriodCount] = field(default_factory=list)
    failures: int = 0
    demands_raised: int = 0
    demands_resolved: int = 0
    missed: int = 0

    @property
    def facility(self) -> Facility:
        return self.director.facility

    @property
    def required(self) -> int:
        return sum(p.required for p in self.periods)

    @property
    def done(self) -> int:
        return sum(p.done for p in self.periods)

    @property
    def periods_met(self) -> int:
        return sum(1 for p in self.periods if p.met)

    @property
    def on_time_rate(self) -> float | None:
        """Share of complete periods in which the rule was met (None before the first complete period)."""
        return round(self.periods_met / len(self.periods), 4) if self.periods else None

    @property
    def on_time_percent(self) -> int | None:
        rate = self.on_time_rate
        return None if rate is None else round(rate * 100)


TRUNC_KIND: dict[str, str] = {RulePeriod.DAY: "day", RulePeriod.WEEK: "week", RulePeriod.MONTH: "month"}


def director_records(
    *,
    user: Any,
    since: dt.date | None = None,
    until: dt.date | None = None,
    facility: Facility | None = None,
    level: str | None = None,
) -> list[DirectorRecord]:
    """Each visible director's inspections done vs required per complete period in [since, until), on-time rate,
    failures found, demands raised and resolved, missed periods flagged. A fixed number of grouped queries."""
    from wangge.demands.models import State

    until = until or clock.today_local()
    since = since or (until - dt.timedelta(days=90))
    directors_qs = (
        FacilityDirector.objects.filter(visible_q(user, "facility__"), facility__is_active=True)
        .filter(Q(is_active=True) | Q(ended_on__gt=since))
        .select_related("facility__facility_type", "facility__area", "user")
    )
    if facility is not None:
        directors_qs = directors_qs.filter(facility=facility)
    if level:
        directors_qs = directors_qs.filter(level=level)
    directors = list(directors_qs)
    if not directors:
        return []
    ids = [d.pk for d in directors]
    window = {"at__gte": rules.local_midnight(since), "at__lt": rules.local_midnight(until)}

    counts: dict[tuple[int, dt.date], int] = {}
    for period in RulePeriod.values:
        kind_ids = [d.pk for d in directors if d.rule_period == period]
        if not kind_ids:
            continue
        rows = (
            Inspection.objects.filter(director_id__in=kind_ids, **window)
            .annotate(p=Trunc("at", TRUNC_KIND[period], tzinfo=clock.local_tz()))
            .values("director_id", "p")
            .annotate(n=Count("id"))
            .values_list("director_id", "p", "n")
        )
        for director_id, start, n in rows:
            day = start.astimezone(clock.local_tz()).date() if isinstance(start, dt.datetime) else start
            counts[(director_id, day)] = counts.get((director_id, day), 0) + n

    item_rows = (
        InspectionItem.objects.filter(
            inspection__director_id__in=ids, passed=False, **{f"inspection__{k}": v for k, v in window.items()}
        )
        .values("inspection__director_id")
        .annotate(
            failures=Count("id"),
            raised=Count("id", filter=Q(demand__isnull=False, demand_reused=False)),
            resolved=Count("id", filter=Q(demand_reused=False, demand__state__in=[State.RESOLVED, State.CLOSED])),
        )
    )
    items = {r["inspection__director_id"]: r for r in item_rows}
    missed = dict(
        MissedInspection.objects.filter(director_id__in=ids, period_start__gte=since, period_start__lt=until)
        .values("director_id")
        .annotate(n=Count("id"))
        .values_list("director_id", "n")
    )

    order = {level.value: i for i, level in enumerate(LEVEL_ORDER)}
    records = []
    for d in sorted(directors, key=lambda d: (d.facility.area_path, d.facility.code, order.get(d.level, 9), d.pk)):
        first = max(since, d.since)
        last = min(until, d.ended_on) if d.ended_on else until
        periods = [
            PeriodCount(start=s, end=e, done=counts.get((d.pk, s), 0), required=d.rule_count)
            for s, e in rules.complete_periods(d.rule_period, first, last)
            if e <= last
        ]
        row = items.get(d.pk, {})
        records.append(
            DirectorRecord(
                director=d,
                periods=periods,
                failures=row.get("failures", 0),
                demands_raised=row.get("raised", 0),
                demands_resolved=row.get("resolved", 0),
                missed=missed.get(d.pk, 0),
            )
        )
    return records


def my_directorships(*, user: Any) -> QuerySet[FacilityDirector]:
    if user is None or not getattr(user, "is_authenticated", False):
        return FacilityDirector.objects.none()
    return FacilityDirector.objects.filter(user=user, is_active=True, facility__is_active=True).select_related(
        "facility__facility_type"
    )


def this_period_done(director: FacilityDirector) -> int:
    """Inspections the director has done so far in the current period (for "2 of 2 this week" on the phone)."""
    start, end = rules.current_period(clock.today_local(), director.rule_period)
    return Inspection.objects.filter(
        director=director, at__gte=rules.local_midnight(start), at__lt=rules.local_midnight(end)
    ).count()


def with_active_directors(facilities: list[Facility]) -> list[Facility]:
    """The facilities with `active_directors` read in one query (oldest assignment first), for a list."""
    prefetch_related_objects(
        facilities,
        Prefetch(
            "directors",
            queryset=FacilityDirector.objects.filter(is_active=True).order_by("id"),
            to_attr="active_directors",
        ),
    )
    return facilities
