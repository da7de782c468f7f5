"""The public page (政务公开): monthly figures of the city and its towns, demands and visit activity."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from wangge.core import clock
from wangge.dashboards.facts import demand_rows, local_day, visit_models
from wangge.dashboards.measures import Tally, demand_facts
from wangge.dashboards.models import ActivityRollup, Cut, DemandRollup
from wangge.dashboards.selectors.subjects import Period
from wangge.dashboards.selectors.tallies import FIELDS, _split, live_demands, prefix_at, rollup_state
from wangge.registry.models import Area, Level

# --- public page (政务公开) -----------------------------------------------------------------------


def public_months(months: int = 6) -> dict[str, Any]:
    """City-wide and per-town figures of the last months (no personal data): rollups, and the days not
    rolled up yet (today at least) computed live, as every dashboard reads them."""
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
    past, runs = _split(Period(start, today))
    if past is not None:
        rows = DemandRollup.objects.filter(area_id__in=wanted, cut=Cut.TOTAL, day__gte=start, day__lte=past.end)
        for row in rows.values("area_id", "day", *FIELDS):
            tallies[(row["area_id"], row["day"].replace(day=1))].add_row(row)
    by_path = {a.path: a.pk for a in ([city] if city else []) + towns}
    now = clock.now()
    for demand, _cat, _dept in demand_rows(live_demands(runs)):
        facts = demand_facts(demand, now)
        month = local_day(demand.created_at).replace(day=1)
        for depth in (1, 2):  # the city and the town of the demand's area
            pk = by_path.get(prefix_at(demand.area_path, depth))
            if pk is not None:
                tallies[(pk, month)].add_facts(facts)
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
