"""Reads of the dashboards, every one inside the acting user's scope.

Figures come from the rollups for past days and are computed live over today's demands (today's
are few, and the rollup of today is at most one worker pass old), with the one definition in
`measures.py`. Whose figures: an area the user's scope covers (the city for city-wide roles), or
a department the user belongs to (city-wide roles see every department of their city).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy, pgettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.dashboards.facts import day_bounds, demand_rows, tally_demands, visit_models
from wangge.dashboards.measures import LEVELS, OPEN, WAITING, Tally, demand_facts, level_of_path, ranking_score
from wangge.dashboards.models import (
    COUNTERS,
    HISTOGRAMS,
    SUMS,
    ActivityRollup,
    Cut,
    DemandRollup,
    ExportJob,
    RollupState,
)
from wangge.demands import permissions as demand_permissions
from wangge.demands import selectors as demand_selectors
from wangge.demands.models import Category, Demand
from wangge.registry.models import Area, Department, Level

# The columns a tally reads from a rollup row (values(), not model instances: hundreds per page).
FIELDS = (*COUNTERS, *SUMS, *HISTOGRAMS)

# --- whose figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The area or department a dashboard shows."""

    area: Area | None = None
    department: Department | None = None

    @property
    def label(self) -> str:
        return self.area.name if self.area is not None else (self.department.name if self.department else "")

    @property
    def level(self) -> str:
        return self.area.level if self.area is not None else "department"

    def rollups(self) -> QuerySet[DemandRollup]:
        if self.area is not None:
            return DemandRollup.objects.filter(area=self.area)
        return DemandRollup.objects.filter(department=self.department)

    def demands(self) -> QuerySet[Demand]:
        """The subject's demands (for the live part): below the area, or sent to the department."""
        if self.area is not None:
            return Demand.objects.filter(area_path__startswith=self.area.path)
        return Demand.objects.filter(dispatched_department=self.department)


def _city_wide(user: Any) -> bool:
    return scope_for(user).is_global or getattr(user, "role", "") in (Role.CITY_ADMIN, Role.AUDITOR)


def subject_for(*, user: Any, area: int | str | None = None, department: int | str | None = None) -> Subject:
    """The subject asked for, if the user may see it; by default the user's own first area or department."""
    scope = scope_for(user)
    if department not in (None, ""):
        dept = Department.objects.filter(pk=int(department) if str(department).isdigit() else 0).first()
        if dept is None or not (scope.covers_department(dept.pk) or scope.covers_path(dept.area_path)):
            raise NotFound(pgettext_lazy("dashboard", "department not found"))
        return Subject(department=dept)
    if area not in (None, ""):
        found = Area.objects.filter(pk=int(area) if str(area).isdigit() else 0).first()
        if found is None or not scope.covers_path(found.path):
            raise NotFound(gettext_lazy("area not found"))
        return Subject(area=found)
    if scope.is_global:
        root = Area.objects.filter(parent__isnull=True).order_by("path").first()
    else:
        root = Area.objects.filter(path__in=scope.area_paths).order_by("depth", "path").first()
    if root is not None:
        return Subject(area=root)
    if scope.department_ids:
        return Subject(department=Department.objects.get(pk=scope.department_ids[0]))
    raise NotFound(gettext_lazy("no area or department is assigned to you"))


def breadcrumb(*, user: Any, subject: Subject) -> list[Area]:
    """The subject's ancestors the user may open (drill-down back up), top first, itself last."""
    if subject.area is None:
        return []
    scope = scope_for(user)
    ancestors = {a.path: a for a in Area.objects.filter(path__in=subject.area.ancestor_paths())}
    return [ancestors[p] for p in subject.area.ancestor_paths() if p in ancestors and scope.covers_path(p)]


def departments_for(*, user: Any) -> list[Department]:
    """Departments whose dashboard the user may open."""
    scope = scope_for(user)
    return list(Department.objects.filter(scope.department_q("id") | scope.area_q("area_path")).order_by("code"))


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    name: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before; for a month, the same days of the month before."""
        if self.name == "month":
            last_of_previous = self.start - dt.timedelta(days=1)
            first = last_of_previous.replace(day=1)
            # Month to date against the same days of last month (1–13 March against 1–13 February).
            return Period(first, min(last_of_previous, first + (self.end - self.start)), "month")
        if self.name == "week":
            # Week to date against the same weekdays of last week.
            return Period(self.start - dt.timedelta(days=7), self.end - dt.timedelta(days=7), "week")
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1), self.name)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def period_from(name: str | None, start: str | None = None, end: str | None = None) -> Period:
    """today, week (Monday to today), month (1st to today), 30d, year, or custom start/end."""
    today = clock.today_local()
    name = name or "month"
    if name == "today":
        return Period(today, today, "today")
    if name == "week":
        return Period(today - dt.timedelta(days=today.weekday()), today, "week")
    if name == "30d":
        return Period(today - dt.timedelta(days=29), today, "30d")
    if name == "year":
        return Period(today.replace(month=1, day=1), today, "year")
    if name == "custom":
        try:
            first = dt.date.fromisoformat(start or "")
            last = dt.date.fromisoformat(end or "")
        except ValueError:
            from wangge.core.errors import ValidationFailed

            raise ValidationFailed(gettext_lazy("give the start and end as YYYY-MM-DD"), field="start") from None
        if last < first:
            first, last = last, first
        if (last - first).days > 3660:
            first = last - dt.timedelta(days=3660)
        return Period(first, last, "custom")
    return Period(today.replace(day=1), today, "month")


def month_period(month: str | None) -> Period:
    """A calendar month "YYYY-MM" (this month by default; up to today when it is this month)."""
    today = clock.today_local()
    try:
        first = dt.date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, min(nxt - dt.timedelta(days=1), max(today, first)), "month")


# --- figures ----------------------------------------------------------------------------------


def _split(period: Period) -> tuple[Period | None, bool]:
    """The part of a period read from rollups, and whether today (read live) is in it."""
    today = clock.today_local()
    live = period.contains(today)
    last = min(period.end, today - dt.timedelta(days=1))
    return (Period(period.start, last) if last >= period.start else None), live


def _today_demands() -> QuerySet[Demand]:
    start, end = day_bounds(clock.today_local())
    return Demand.objects.filter(created_at__gte=start, created_at__lt=end)


def figures(*, subject: Subject, period: Period) -> Tally:
    """The subject's tally over a period (rollups, plus today's demands live)."""
    tally = Tally()
    past, live = _split(period)
    if past is not None:
        for row in subject.rollups().filter(cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end).values(*FIELDS):
            tally.add_row(row)
    if live:
        tally.add(tally_demands(subject.demands() & _today_demands()))
    return tally


def daily(*, subject: Subject, period: Period) -> list[tuple[dt.date, Tally]]:
    """One tally per day of the period (days without demands included, as zeros)."""
    by_day: dict[dt.date, Tally] = defaultdict(Tally)
    past, live = _split(period)
    if past is not None:
        rows = subject.rollups().filter(cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end)
        for row in rows.values("day", *FIELDS):
            by_day[row["day"]].add_row(row)
    if live:
        by_day[clock.today_local()].add(tally_demands(subject.demands() & _today_demands()))
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    return [(d, by_day.get(d) or Tally()) for d in days]


def weekly(series: list[tuple[dt.date, Tally]]) -> list[tuple[dt.date, Tally]]:
    """The daily series added up by ISO week (each week named by its Monday)."""
    weeks: dict[dt.date, Tally] = {}
    for day, tally in series:
        monday = day - dt.timedelta(days=day.weekday())
        weeks.setdefault(monday, Tally()).add(tally)
    return sorted(weeks.items())


def categories(*, subject: Subject, period: Period) -> list[dict[str, Any]]:
    """Received, resolved and rates per category, most received first."""
    tallies: dict[int | None, Tally] = defaultdict(Tally)
    past, live = _split(period)
    live_qs = None
    if subject.level in ("village", "branch", "grid"):
        # No category rollups below the town (services.CATEGORY_LEVELS): their demands are few, read live.
        live_qs = subject.demands().filter(created_at__gte=day_bounds(period.start)[0])
        live_qs = live_qs.filter(created_at__lt=day_bounds(period.end)[1])
    else:
        if past is not None:
            rows = subject.rollups().filter(cut=Cut.CATEGORY, day__gte=past.start, day__lte=past.end)
            for row in rows.values("category_id", *FIELDS):
                tallies[row["category_id"]].add_row(row)
        if live:
            live_qs = subject.demands() & _today_demands()
    if live_qs is not None:
        now = clock.now()
        for row, category_id, _dept in demand_rows(live_qs):
            tallies[category_id].add_facts(demand_facts(row, now))
    names = {c.pk: str(c) for c in Category.objects.select_related("parent").filter(pk__in=[k for k in tallies if k])}
    result = []
    for category_id, tally in tallies.items():
        m = tally.measures()
        result.append({"category_id": category_id, "name": names.get(category_id or 0, "未分类"), **m})
    return sorted(result, key=lambda r: (-r["received"], r["name"]))


def children(*, subject: Subject, period: Period) -> list[dict[str, Any]]:
    """Each child area of the subject with its measures (drill-down), in path order."""
    if subject.area is None or subject.area.level == Level.GRID:
        return []
    kids = list(Area.objects.filter(parent=subject.area).order_by("path"))
    tallies = area_tallies(areas=kids, period=period)
    return [{"area": a, **tallies.get(a.pk, Tally()).measures()} for a in kids]


def area_tallies(*, areas: list[Area], period: Period) -> dict[int, Tally]:
    """Counters of several areas at once (rollups summed by area, today live grouped by ancestor).

    Without histograms: lists and rankings show rates, not percentiles.
    """
    result: dict[int, Tally] = defaultdict(Tally)
    if not areas:
        return result
    past, live = _split(period)
    ids = [a.pk for a in areas]
    if past is not None:
        # The database adds the counters up per area (one grouped query; no histograms needed here).
        sums = {name: Sum(name) for name in (*COUNTERS, *SUMS)}
        for i in range(0, len(ids), 500):
            rows = (
                DemandRollup.objects.filter(
                    area_id__in=ids[i : i + 500], cut=Cut.TOTAL, day__gte=past.start, day__lte=past.end
                )
                .values("area_id")
                .annotate(**sums)
            )
            for row in rows:
                result[row["area_id"]].add_row(row)
    if live:
        wanted = {a.path: a.pk for a in areas}
        depths = sorted({path_depth(a.path) for a in areas})
        common = _common_prefix(list(wanted))
        now = clock.now()
        qs = _today_demands().filter(area_path__startswith=common) if common else _today_demands()
        for demand, _cat, _dept in demand_rows(qs):
            facts: dict[str, int] | None = None
            for depth in depths:
                pk = wanted.get(prefix_at(demand.area_path, depth))
                if pk is not None:
                    facts = facts or demand_facts(demand, now)
                    result[pk].add_facts(facts)
    return result


def path_depth(path: str) -> int:
    return path.rstrip("/").count("/") + 1


def prefix_at(path: str, depth: int) -> str:
    """The path of the ancestor at `depth` segments ("" when the path is shallower)."""
    parts = path.split("/")
    if len(parts) - 1 < depth:
        return ""
    return "/".join(parts[:depth]) + "/"


def _common_prefix(paths: list[str]) -> str:
    if not paths:
        return ""
    first, last = min(paths), max(paths)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    prefix = first[:i]
    return prefix[: prefix.rfind("/") + 1]


def climb(tally: Tally) -> list[dict[str, Any]]:
    """How far demands climb: how many reached each level at most, and how many went to a department."""
    received = tally.counts["received"] or 0
    rows = []
    for level in LEVELS[::-1]:
        n = tally.counts[f"climb_{level}"]
        rows.append({"level": level, "count": n, "share": n / received if received else None})
    n = tally.counts["climb_department"]
    rows.append({"level": "department", "count": n, "share": n / received if received else None})
    return rows


def rollup_state() -> RollupState | None:
    return RollupState.objects.filter(name="demands").first()


# --- ranking (红黑榜) --------------------------------------------------------------------------


BOARD_SIZE = 5


def board_ends(
    ranked: list[dict[str, Any]], size: int = BOARD_SIZE
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The red list (best first) and the black list (worst first) of a ranking.

    With twice `size` areas or fewer the ranking is split in halves (the odd one out on the red
    list), so no area is on both lists and the black list is empty only when one area is ranked.
    """
    red_size = min(size, (len(ranked) + 1) // 2)
    black_size = min(size, len(ranked) - red_size)
    top = ranked[:red_size]
    bottom = ranked[len(ranked) - black_size :][::-1] if black_size else []
    return top, bottom


def ranking(*, user: Any, level: str, period: Period) -> dict[str, Any]:
    """The month's ranking of all towns (or villages) of the user's city by the mean of three rates.

    Everyone sees the positions of the areas their scope covers; only city-wide roles see the whole
    list and the top and bottom five (红榜/黑榜; `board_ends` splits a shorter ranking in halves).
    Areas with fewer than DASHBOARD_RANKING_MIN_DEMANDS demands are listed unranked.
    """
    if level not in (Level.TOWN, Level.VILLAGE):
        level = Level.TOWN
    scope = scope_for(user)
    city_paths = {p.split("/", 1)[0] + "/" for p in scope.area_paths}
    if not city_paths and scope.department_ids:
        city_paths = set(Department.objects.filter(pk__in=scope.department_ids).values_list("area_path", flat=True))
    areas_qs = Area.objects.filter(level=level).order_by("path")
    if not scope.is_global:
        cond = Q(pk__in=[])
        for p in city_paths:
            cond |= Q(path__startswith=p)
        areas_qs = areas_qs.filter(cond)
    areas = list(areas_qs)
    tallies = area_tallies(areas=areas, period=period)
    minimum = int(getattr(settings, "DASHBOARD_RANKING_MIN_DEMANDS", 1))
    rows = []
    for area in areas:
        m = tallies.get(area.pk, Tally()).measures()
        score = ranking_score(m) if m["received"] >= minimum else None
        rows.append({"area": area, "score": score, **m})
    ranked = sorted(
        (r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], -r["received"], r["area"].path)
    )
    for i, r in enumerate(ranked, 1):
        r["position"] = i
    unranked = [r for r in rows if r["score"] is None]
    for r in unranked:
        r["position"] = None
    city_wide = _city_wide(user)
    visible = [r for r in ranked + unranked if city_wide or scope.covers_path(r["area"].path)]
    # A town sees its own place, never its neighbours' figures.
    top, bottom = board_ends(ranked) if city_wide else ([], [])
    return {
        "level": level,
        "rows": visible,
        "ranked": len(ranked),
        "top": top,
        "bottom": bottom,
        "city_wide": city_wide,
        # A short ranking is split in halves between the two lists (the page says so).
        "split": city_wide and 0 < len(ranked) <= 2 * BOARD_SIZE,
    }


# --- map --------------------------------------------------------------------------------------


def map_areas(subject: Subject) -> list[Area]:
    """The areas the map draws for a subject: towns of a city, villages of a town, grids below a village."""
    if subject.area is None:
        return []
    area = subject.area
    if area.level == Level.CITY:
        return list(Area.objects.filter(parent=area).order_by("path"))
    if area.level == Level.TOWN:
        return list(Area.objects.filter(parent=area).order_by("path"))
    if area.level == Level.GRID:
        return [area]
    return list(Area.objects.filter(level=Level.GRID, path__startswith=area.path).order_by("path"))


def map_features(*, subject: Subject) -> dict[str, Any]:
    """GeoJSON of the map's areas, each with its open and overdue demands now (live, open ones only)."""
    areas = map_areas(subject)
    counts: dict[int, list[int]] = {a.pk: [0, 0] for a in areas}
    if subject.area is not None and areas:
        now = clock.now()
        late = Q(resolve_due_at__lt=now) | Q(state__in=WAITING, accept_due_at__lt=now)
        grouped = (
            Demand.objects.filter(state__in=OPEN, area_path__startswith=subject.area.path)
            .values("area_path")
            .annotate(open=Count("id"), overdue=Count("id", filter=late))
        )
        by_path = {a.path: a.pk for a in areas}
        depths = sorted({path_depth(a.path) for a in areas})
        for row in grouped:
            for depth in depths:
                pk = by_path.get(prefix_at(row["area_path"], depth))
                if pk is not None:
                    counts[pk][0] += row["open"]
                    counts[pk][1] += row["overdue"]
                    break
    features = []
    for a in areas:
        if not a.boundary:
            continue
        geometry = a.boundary.get("geometry") if a.boundary.get("type") == "Feature" else a.boundary
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "id": a.pk,
                    "name": a.name,
                    "level": a.level,
                    "open": counts[a.pk][0],
                    "overdue": counts[a.pk][1],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "areas": len(areas)}


# --- public page (政务公开) -----------------------------------------------------------------------


def public_months(months: int = 6) -> dict[str, Any]:
    """City-wide and per-town figures of the last months, from rollups only (no personal data)."""
    today = clock.today_local()
    firsts = []
    first = today.replace(day=1)
    for _ in range(months):
        firsts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    firsts.reverse()
    start = firsts[0]
    city = Area.objects.filter(level=Level.CITY).order_by("path").first()
    towns = list(Area.objects.filter(level=Level.TOWN).order_by("path"))
    wanted = ([city.pk] if city else []) + [t.pk for t in towns]
    tallies: dict[tuple[int, dt.date], Tally] = defaultdict(Tally)
    rows = DemandRollup.objects.filter(area_id__in=wanted, cut=Cut.TOTAL, day__gte=start, day__lte=today)
    for row in rows.values("area_id", "day", *FIELDS):
        tallies[(row["area_id"], row["day"].replace(day=1))].add_row(row)
    activity: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    has_visits = visit_models() is not None
    if has_visits:
        for area_id, day, visits, opinions in ActivityRollup.objects.filter(
            area_id__in=wanted, day__gte=start, day__lte=today
        ).values_list("area_id", "day", "visits", "opinions"):
            item = activity[(area_id, day.replace(day=1))]
            item[0] += visits
            item[1] += opinions

    def line(area: Area) -> dict[str, Any]:
        cells = []
        for month in firsts:
            m = tallies.get((area.pk, month), Tally()).measures()
            v, o = activity.get((area.pk, month), [0, 0])
            cells.append(
                {
                    "month": month,
                    "received": m["received"],
                    "resolved": m["resolved"],
                    "satisfaction_rate": m["satisfaction_rate"],
                    "visits": v,
                    "opinions": o,
                }
            )
        return {"area": area, "months": cells, "total": _sum_cells(cells)}

    return {
        "months": firsts,
        "city": line(city) if city else None,
        "towns": [line(t) for t in towns],
        "has_visits": has_visits,
        "state": rollup_state(),
    }


def _sum_cells(cells: list[dict[str, Any]]) -> dict[str, Any]:
    received = sum(c["received"] for c in cells)
    resolved = sum(c["resolved"] for c in cells)
    return {
        "received": received,
        "resolved": resolved,
        "visits": sum(c["visits"] for c in cells),
        "opinions": sum(c["opinions"] for c in cells),
    }


# --- console ----------------------------------------------------------------------------------


def held_q(user: Any) -> Q:
    """Demands the user's level or department holds now (the holder may see the reporter's phone)."""
    return demand_permissions.held_q(user)


def below_q(user: Any) -> Q:
    """Demands held at the user's level or below (or by the user's department)."""
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q = Q(pk__in=[])
    if scope.area_paths:
        # A department's demands keep the dispatching level's path: the level still follows them.
        q |= scope.area_q("holder_path")
    if scope.department_ids:
        q |= scope.department_q("holder_department_id")
    return q


CONSOLE_VIEWS = ("queue", "mine", "all")


def console_view(value: Any) -> str:
    """The console's `view` parameter; anything else shows everything in scope."""
    return value if value in CONSOLE_VIEWS else "all"


def console_list(*, user: Any, filters: demand_selectors.DemandFilter, view: str = "queue") -> QuerySet[Demand]:
    """The console's queue: demands in scope with the demand filters (search by code, exact phone or words).

    `view`: "queue" (open, held at my level or below: the default), "mine" (held by my level or
    department now), "all" (everything in scope).
    """
    qs = demand_selectors.demand_list(user=user, filters=filters)
    if view == "queue":
        qs = qs.filter(below_q(user), state__in=OPEN)
    elif view == "mine":
        qs = qs.filter(held_q(user), state__in=OPEN)
    # Category.__str__ names the parent: fetch it with the page, not once per row.
    return qs.select_related("category__parent")


def console_areas(*, user: Any) -> QuerySet[Area]:
    """Areas to filter the console by: towns, villages and branches inside the scope."""
    scope = scope_for(user)
    levels = (
        [Level.TOWN, Level.VILLAGE]
        if scope.is_global or user.role == Role.CITY_ADMIN
        else [
            Level.TOWN,
            Level.VILLAGE,
            Level.BRANCH,
        ]
    )
    return Area.objects.filter(scope.area_q("path"), level__in=levels).order_by("path")[:600]


def console_departments(*, user: Any) -> list[Department]:
    """Departments the user may dispatch to: those of the cities of the user's areas."""
    scope = scope_for(user)
    cities = {p.split("/", 1)[0] + "/" for p in scope.area_paths}
    qs = Department.objects.filter(is_active=True)
    if not scope.is_global:
        qs = qs.filter(area_path__in=cities)
    return list(qs.order_by("code"))


def export_jobs(*, user: Any) -> QuerySet[ExportJob]:
    """The user's own exports (nobody else's, whatever their role)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_get(*, user: Any, pk: int) -> ExportJob:
    job = export_jobs(user=user).filter(pk=pk).first()
    if job is None:
        raise NotFound(gettext_lazy("export not found"))
    return job


def level_of(area: Area) -> str:
    return level_of_path(area.path)
