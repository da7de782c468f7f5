"""Reads of visits, opinions and visit coverage, every one filtered by the acting user's scope.

Visits and opinions carry the area path of the household's grid, so scoping is one prefix filter.
Coverage ("visited this month", "never visited") is counted by the database in one grouped query
per page, never household by household.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.registry.models import Area, Household, Level
from wangge.visits.models import Opinion, Visit


def month_bounds(day: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (exclusive) of the local calendar month holding `day` (today by default), aware."""
    day = day or clock.today_local()
    tz = clock.local_tz()
    start = dt.datetime(day.year, day.month, 1, tzinfo=tz)
    nxt = dt.datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=tz)
    return start, nxt


def visit_list(
    *,
    user: Any,
    area: Area | None = None,
    household: Household | None = None,
    how: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Visit]:
    """Visits in the user's scope, newest first, with what a list shows (opinions prefetched)."""
    scope = scope_for(user)
    qs = (
        Visit.objects.filter(scope.area_q("area_path"))
        .select_related("visitor", "household", "grid", "demand")
        .prefetch_related(Prefetch("opinions", queryset=Opinion.objects.order_by("id")))
    )
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    if household is not None:
        qs = qs.filter(household=household)
    if how:
        qs = qs.filter(how=how)
    tz = clock.local_tz()
    if date_from:
        qs = qs.filter(visited_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(visited_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-visited_at", "-id")


def visit_get(*, user: Any, pk: int) -> Visit:
    """One visit inside the user's scope, or NotFound (never reveal what lies outside)."""
    visit = visit_list(user=user).filter(pk=pk).first()
    if visit is None:
        raise NotFound(_("visit not found"))
    return visit


def opinion_list(
    *, user: Any, state: str | None = None, category: str | None = None, area: Area | None = None
) -> QuerySet[Opinion]:
    """Opinions heard in the user's scope, newest first."""
    scope = scope_for(user)
    qs = Opinion.objects.filter(scope.area_q("area_path")).select_related(
        "household", "visit__visitor", "answered_by", "adopted_by"
    )
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    return qs.order_by("-created_at", "-id")


def opinion_get(*, user: Any, pk: int) -> Opinion:
    opinion = opinion_list(user=user).filter(pk=pk).first()
    if opinion is None:
        raise NotFound(_("opinion not found"))
    return opinion


def households_by_last_visit(*, user: Any, area: Area | None = None) -> QuerySet[Household]:
    """Households in the user's scope with `last_visited_at`: never visited first, then the longest ago.

    One query: the last visit is a grouped MAX over the visits index, not a query per household.
    """
    scope = scope_for(user)
    qs = Household.objects.filter(scope.area_q("area_path"))
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    return (
        qs.select_related("grid")
        .annotate(last_visited_at=Max("visits__visited_at"))
        .order_by(F("last_visited_at").asc(nulls_first=True), "id")
    )


@dataclass
class CoverageRow:
    """Visit coverage of one area: households, those visited this month, those never visited."""

    area: Area | None
    households: int = 0
    visited_this_month: int = 0
    never_visited: int = 0

    @property
    def not_this_month(self) -> int:
        return self.households - self.visited_this_month

    @property
    def percent(self) -> int:
        """Share of households visited this month, in whole percent (0 when there are none)."""
        return round(100 * self.visited_this_month / self.households) if self.households else 0


@dataclass
class Coverage:
    """The coverage page: one row per area below `parent`, and the total."""

    parent: Area | None
    rows: list[CoverageRow]
    total: CoverageRow
    month_start: dt.datetime
    children: list[Area] = field(default_factory=list)


def _grid_counts(households: QuerySet[Household], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Per grid (with its path): households, visited in [start, end), never visited. One grouped query."""
    in_month = Visit.objects.filter(household=OuterRef("pk"), visited_at__gte=start, visited_at__lt=end)
    ever = Visit.objects.filter(household=OuterRef("pk"))
    return list(
        households.values("grid_id", "area_path")
        .annotate(
            total=Count("id"),
            month=Count("id", filter=Q(Exists(in_month))),
            never=Count("id", filter=~Q(Exists(ever))),
        )
        .order_by()
    )


def coverage(*, user: Any, parent: Area | None = None, day: dt.date | None = None) -> Coverage:
    """Visit coverage for the month of `day` of each area just below `parent` (or of the user's own areas).

    Counted by the household's current grid: households moved between grids count where they are now.
    Queries: the child areas, then one grouped count of the households below.
    """
    scope = scope_for(user)
    start, end = month_bounds(day)
    if parent is not None:
        children = list(Area.objects.filter(parent=parent).filter(scope.area_q("path")).order_by("path"))
        if parent.level == Level.GRID:
            children = [parent]
    elif scope.is_global:
        children = list(Area.objects.filter(parent__isnull=True).order_by("path"))
    else:
        children = list(Area.objects.filter(path__in=scope.area_paths).order_by("path"))
    households = Household.objects.filter(scope.area_q("area_path"))
    if parent is not None:
        households = households.filter(area_path__startswith=parent.path)
    elif children:
        prefixes = Q()
        for child in children:
            prefixes |= Q(area_path__startswith=child.path)
        households = households.filter(prefixes)
    else:
        households = households.none()
    rows = {child.path: CoverageRow(area=child) for child in children}
    total = CoverageRow(area=parent)
    # Longest path first: a grid's path falls under exactly one child, found by prefix.
    ordered = sorted(rows, key=len, reverse=True)
    for item in _grid_counts(households, start, end) if children else []:
        path = item["area_path"]
        key = next((p for p in ordered if path.startswith(p)), None)
        targets = [total] + ([rows[key]] if key is not None else [])
        for row in targets:
            row.households += item["total"]
            row.visited_this_month += item["month"]
            row.never_visited += item["never"]
    return Coverage(parent=parent, rows=list(rows.values()), total=total, month_start=start, children=children)


# How many of my open demands the workbench lists; a grid holds 10 to 30 households, so more is rare.
WORKBENCH_DEMANDS = 50


@dataclass
class Workbench:
    """The grid leader's home: my areas, my demands to take and in hand, my households, my coverage."""

    areas: list[Area]
    waiting: list[Any]
    in_progress: list[Any]
    households: list[Household]
    coverage: Coverage
    shows_households: bool


def workbench(*, user: Any) -> Workbench:
    """Everything the workbench shows, in a fixed number of queries whatever the number of rows.

    Households are listed only to users whose areas are micro-grids (a town has thousands): the
    others see the coverage of their areas and go down from there.
    """
    from wangge.demands.models import WAITING_STATES, State
    from wangge.demands.selectors import my_queue

    cover = coverage(user=user)
    areas = cover.children
    queue = list(my_queue(user=user)[:WORKBENCH_DEMANDS])
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    waiting = sorted((d for d in queue if d.state in WAITING_STATES), key=lambda d: (d.accept_due_at or far, d.pk))
    in_progress = sorted(
        (d for d in queue if d.state == State.IN_PROGRESS), key=lambda d: (d.resolve_due_at or far, d.pk)
    )
    shows = bool(areas) and all(a.level == Level.GRID for a in areas)
    households = list(households_by_last_visit(user=user)) if shows else []
    return Workbench(
        areas=areas,
        waiting=waiting,
        in_progress=in_progress,
        households=households,
        coverage=cover,
        shows_households=shows,
    )
