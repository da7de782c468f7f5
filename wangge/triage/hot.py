"""The worker's pass over hot issues: the one writer of `HotIssueSet`.

Grouping a window's demands by text from scratch takes seconds at millions of demands, too long
for a page and for a pass. Each pass first puts the demands created since the last one in a hot
cluster (`hotclusters.hot_clusters_pass`: its cost follows the intake, not history), then
regroups the sets that are missing or older than their refresh period (`refresh_period`: 15 minutes
for the 7-day window, longer for longer ones), the most overdue first, until
TRIAGE_HOT_PASS_SECONDS are spent (always at least one): the city-wide set ("") and one per area
of TRIAGE_HOT_LEVELS, for each window of TRIAGE_HOT_DAYS. A set is a GROUP BY of the window's
demands by cluster (`hot_reads.clustered_hot_issues`, milliseconds to a few hundred). While a
backlog of demands is still being put in clusters (a first pass over an existing database), no
set is regrouped: the pages group live meanwhile. The pages read the stored groups
(`selectors.hot_issues_recent`).
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings

from wangge.core import clock
from wangge.registry.models import Area
from wangge.triage.hot_reads import clustered_hot_issues
from wangge.triage.hotclusters import BATCH, hot_clusters_pass
from wangge.triage.models import HotIssueSet
from wangge.triage.selectors import group_to_json

# The most groups a set keeps (the API asks for at most 50).
STORED_TOP = 50


def hot_targets() -> list[tuple[str, int]]:
    """(area path, days) of every set the worker keeps; "" is every area."""
    levels = tuple(getattr(settings, "TRIAGE_HOT_LEVELS", ("city", "town")))
    paths = ["", *Area.objects.filter(level__in=levels).order_by("path").values_list("path", flat=True)]
    windows = tuple(getattr(settings, "TRIAGE_HOT_DAYS", (7, 30, 90)))
    return [(path, days) for days in windows for path in paths]


def hot_issue_set_refresh(*, area_path: str, days: int, also: tuple[str, ...] = ()) -> HotIssueSet:
    """Regroup one set now (the demands created in the last `days` days under `area_path`).

    `also`: other paths whose set is the same demands (every area "" and the only city), stored from
    the same grouping.
    """
    started = time.perf_counter()
    now = clock.now()
    since = now - dt.timedelta(days=days)
    groups = [group_to_json(g) for g in clustered_hot_issues(since=since, area_path=area_path or None, top=STORED_TOP)]
    seconds = time.perf_counter() - started
    for path in (area_path, *also):
        row, _created = HotIssueSet.objects.update_or_create(
            area_path=path,
            days=days,
            defaults={"since": since, "computed_at": now, "groups": groups, "seconds": seconds},
        )
        if path == area_path:
            first = row
    return first


def _same_sets() -> dict[str, tuple[str, ...]]:
    """Paths whose sets hold the same demands: with one city, every area ("") is that city."""
    levels = tuple(getattr(settings, "TRIAGE_HOT_LEVELS", ("city", "town")))
    if "city" not in levels:
        return {}
    cities = list(Area.objects.filter(level="city").values_list("path", flat=True)[:2])
    if len(cities) != 1 or Area.objects.filter(parent__isnull=True).exclude(path=cities[0]).exists():
        return {}
    return {"": (cities[0],), cities[0]: ("",)}


def hot_issues_pass() -> dict[str, int]:
    """The worker hook: the new demands put in clusters, then the stale sets regrouped, oldest first,
    within the pass's time budget (`regroup`); returns how many of each."""
    assigned = hot_clusters_pass()
    if assigned >= BATCH:
        return {"assigned": assigned, "regrouped": 0}  # a backlog: the sets would miss demands
    budget = float(getattr(settings, "TRIAGE_HOT_PASS_SECONDS", 1))
    now = clock.now()
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    computed = {
        (p, d): (at, seconds)
        for p, d, at, seconds in HotIssueSet.objects.values_list("area_path", "days", "computed_at", "seconds")
    }

    def due_at(target: tuple[str, int]) -> dt.datetime:
        at = computed.get(target, (None, 0.0))[0]
        return epoch if at is None else at + refresh_period(target[1])

    due = sorted((t for t in hot_targets() if due_at(t) <= now), key=due_at)  # missing first, then the most overdue
    done = regroup(due, took={t: seconds for t, (_at, seconds) in computed.items()}, budget=budget)
    return {"assigned": assigned, "regrouped": done}


def refresh_period(days: int) -> dt.timedelta:
    """How long a set of a `days`-day window is kept before it is regrouped: TRIAGE_HOT_REFRESH_SECONDS for
    the shortest window, and as long as it takes each longer one to move by the same share of itself
    (15 minutes for 7 days, about 64 minutes for 30, about 3.2 hours for 90). A 90-day set changes by a
    ten-thousandth of its demands in 15 minutes, and its grouping costs most (the 102 sets of the 1 M
    benchmark took 35 s to regroup, the 90-day ones most of it): regrouping every set every 15
    minutes spent the pass's whole budget on every pass."""
    refresh = int(getattr(settings, "TRIAGE_HOT_REFRESH_SECONDS", 900))
    shortest = min(tuple(getattr(settings, "TRIAGE_HOT_DAYS", (7, 30, 90))) or (days,))
    return dt.timedelta(seconds=refresh * max(days, shortest) / max(shortest, 1))


def regroup(due: list[tuple[str, int]], *, took: dict[tuple[str, int], float], budget: float | None = None) -> int:
    """Regroup the sets `due`, in order, within `budget` seconds (None: all); returns how many groupings ran.

    A set is not started when the time it took last (`took`) would carry the pass past its budget (but
    the first always is: the oldest set is never passed over), so a pass costs about the budget, not the
    budget plus the biggest set. With one city, the city's sets and the sets of every area ("") are one
    grouping stored twice."""
    same = _same_sets() if due else {}
    due_set = set(due)
    started = time.perf_counter()
    done = 0
    stored: set[tuple[str, int]] = set()
    for area_path, days in due:
        if (area_path, days) in stored:
            continue
        if budget is not None and done and time.perf_counter() - started + took.get((area_path, days), 0.0) > budget:
            break
        also = tuple(p for p in same.get(area_path, ()) if (p, days) in due_set)
        hot_issue_set_refresh(area_path=area_path, days=days, also=also)
        stored.update((p, days) for p in (area_path, *also))
        done += 1
    return done
