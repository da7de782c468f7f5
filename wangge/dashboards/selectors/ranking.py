"""The ranking of areas (红黑榜) and the map of open and overdue demands."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.dashboards.measures import OPEN, WAITING, Tally, ranking_score
from wangge.dashboards.selectors.subjects import Period, Subject, _city_wide
from wangge.dashboards.selectors.tallies import area_tallies, path_depth, prefix_at
from wangge.demands.models import Demand
from wangge.registry.models import Area, Department, Level

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


def _map_counts(area: Area, areas: list[Area]) -> dict[int, list[int]]:
    """[open, overdue] now of each of `areas` (below `area`): one GROUP BY over the open demands."""
    counts: dict[int, list[int]] = {a.pk: [0, 0] for a in areas}
    now = clock.now()
    late = Q(resolve_due_at__lt=now) | Q(state__in=WAITING, accept_due_at__lt=now)
    grouped = (
        Demand.objects.filter(state__in=OPEN, area_path__startswith=area.path)
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
    return counts


def map_features(*, subject: Subject) -> dict[str, Any]:
    """GeoJSON of the map's areas, each with its open and overdue demands now (live, open ones only).

    The counts of an area are kept DASHBOARD_MAP_CACHE_SECONDS in the cache: the big screen and every
    dashboard view of the city then group the open demands once in that time, not once per view.
    """
    areas = map_areas(subject)
    counts: dict[int, list[int]] = {a.pk: [0, 0] for a in areas}
    if subject.area is not None and areas:
        area = subject.area
        ttl = int(getattr(settings, "DASHBOARD_MAP_CACHE_SECONDS", 0))
        if ttl > 0:
            key = f"dashboards:map:{area.pk}:{area.path}:{len(areas)}"
            kept = cache.get(key)
            if kept is None:
                kept = {str(pk): value for pk, value in _map_counts(area, areas).items()}
                cache.set(key, kept, ttl)
            counts.update({int(pk): value for pk, value in kept.items() if int(pk) in counts})
        else:
            counts = _map_counts(area, areas)
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
