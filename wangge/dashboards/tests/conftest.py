"""The hand-computed story the measures are checked on (every demand moved by the real services).

All demands are urgent in a category with calendar-hour limits (accept within 1 h, resolve within
4 h of each new holder), so every limit below can be read off the clock. Week of Monday 9 March
2026, Shanghai time; "now" is Friday 13 March 12:00.

- D1 (grid): Mon 09:00, accepted 09:30, resolved 10:00, rated satisfied on Tuesday ("solved": yes).
- D2 (grid): Mon 09:05, the grid accepts 09:40 and escalates; branch → village; the village
  dispatches 10:20; the department accepts and resolves 11:00; rated basically satisfied.
- D9 (grid): Mon 09:10, rejected 09:20.
- D6 (village): Mon 09:15, the village accepts 09:45, resolves 12:00, never rated (local).
- D3 (grid): Tue 09:00, accepted 09:10, resolved 09:30, rated unsatisfied and "not solved"
  (reopened), accepted again 10:30, resolved 11:00.
- D7 (village): Tue 09:20, dispatched 09:30, the department refuses 09:40 (returned), the village
  accepts 10:00 and never resolves it (open past its limit).
- D8 (grid): Tue 09:30, merged into D1 09:45.
- D4 (grid): Wed 08:00, not accepted: escalated automatically at 09:30, the branch accepts 10:00
  and resolves 11:00 (a late response). Times are working time (from 08:30): 1.5 h and 2.5 h.
- D10 (village): Thu 09:00, dispatched 09:10, the department never accepts (waiting past its limit).
- D5 (other town's grid): Thu 09:30, untouched (waiting past its limit).
- D11 (grid): Fri (today) 11:00, untouched, within its limit (counted live).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.sla import LOCAL_TZ
from wangge.demands.sweep import sweep_once
from wangge.demands.testing import make_category, make_demand

MONDAY = dt.date(2026, 3, 9)
NOW = dt.datetime(2026, 3, 13, 12, 0, tzinfo=LOCAL_TZ)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Local time on day `day` (0 = Monday 9 March 2026)."""
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), LOCAL_TZ)


class Story:
    """The demands of the story by name, and the personas that moved them."""

    def __init__(self, tree: Any, personas: Any) -> None:
        self.tree = tree
        self.personas = personas
        self.d: dict[str, Any] = {}


def build_story(tree: Any, personas: Any) -> Story:
    story = Story(tree, personas)
    grid, branch, village, dept = (
        personas[Role.GRID_LEADER],
        personas[Role.BRANCH],
        personas[Role.VILLAGE],
        personas[Role.DEPARTMENT],
    )
    category = make_category(
        accept_hours_urgent=1, resolve_value_urgent=4, resolve_unit="hours", name="垃圾清运测试", code="T9901"
    )
    d = story.d
    story.category = category  # type: ignore[attr-defined]

    def new(name: str, when: dt.datetime, **kw: Any) -> Any:
        with time_machine.travel(when, tick=False):
            d[name] = make_demand(urgency="urgent", category=category, title=f"故事{name}", **kw)
        return d[name]

    def do(when: dt.datetime, func: Any, name: str, **kw: Any) -> None:
        with time_machine.travel(when, tick=False):
            d[name] = func(demand=d[name], **kw)

    new("D1", at(0, 9), grid=tree.grid)
    new("D2", at(0, 9, 5), grid=tree.grid)
    new("D9", at(0, 9, 10), grid=tree.grid)
    new("D6", at(0, 9, 15), area=tree.village)
    do(at(0, 9, 20), services.demand_reject, "D9", actor=grid, reason="不属于受理范围")
    do(at(0, 9, 30), services.demand_accept, "D1", actor=grid)
    do(at(0, 9, 40), services.demand_accept, "D2", actor=grid)
    do(at(0, 9, 45), services.demand_accept, "D6", actor=village)
    do(at(0, 9, 50), services.demand_escalate, "D2", actor=grid, reason="需要支部协调")
    do(at(0, 10), services.demand_resolve, "D1", actor=grid, result="已修好")
    do(at(0, 10, 10), services.demand_escalate, "D2", actor=branch, reason="报村")
    do(at(0, 10, 20), services.demand_dispatch, "D2", actor=village, department=tree.department)
    do(at(0, 10, 30), services.demand_accept, "D2", actor=dept)
    do(at(0, 11), services.demand_resolve, "D2", actor=dept, result="已砍伐")
    do(at(0, 12), services.demand_resolve, "D6", actor=village, result="已协调")

    new("D3", at(1, 9), grid=tree.grid)
    new("D7", at(1, 9, 20), area=tree.village)
    new("D8", at(1, 9, 30), grid=tree.grid)
    do(at(1, 9, 10), services.demand_accept, "D3", actor=grid)
    do(at(1, 9, 30), services.demand_resolve, "D3", actor=grid, result="已清运")
    do(at(1, 9, 30), services.demand_dispatch, "D7", actor=village, department=tree.department)
    do(at(1, 9, 40), services.demand_reject, "D7", actor=dept, reason="不属于供电公司")
    do(at(1, 9, 45), services.demand_merge, "D8", actor=grid, into=d["D1"])
    do(at(1, 10), services.demand_rate, "D1", satisfaction="satisfied", token=d["D1"].tracking_token, solved=True)
    do(
        at(1, 10),
        services.demand_rate,
        "D3",
        satisfaction="unsatisfied",
        reason="没清干净",
        token=d["D3"].tracking_token,
        solved=False,
    )
    do(at(1, 10), services.demand_accept, "D7", actor=village)
    do(at(1, 10, 5), services.demand_rate, "D2", satisfaction="basic", token=d["D2"].tracking_token)
    do(at(1, 10, 30), services.demand_accept, "D3", actor=grid)
    do(at(1, 11), services.demand_resolve, "D3", actor=grid, result="已再次清运")

    new("D4", at(2, 8), grid=tree.grid)
    with time_machine.travel(at(2, 9, 30), tick=False):
        sweep_once()  # D4 climbs to the branch by itself
    d["D4"].refresh_from_db()
    do(at(2, 10), services.demand_accept, "D4", actor=branch)
    do(at(2, 11), services.demand_resolve, "D4", actor=branch, result="支部已处理")

    new("D10", at(3, 9), area=tree.village)
    do(at(3, 9, 10), services.demand_dispatch, "D10", actor=village, department=tree.department)
    new("D5", at(3, 9, 30), grid=tree.other_grid)
    new("D11", at(4, 11), grid=tree.grid)
    for demand in d.values():
        demand.refresh_from_db()
    return story


# What the story gives, counted by hand from the table above (the whole city).
CITY = {
    "received": 11,
    "open": 4,  # D7, D10, D5, D11
    "overdue": 3,  # D7 (resolve), D10 and D5 (accept)
    "accepted": 6,  # D1, D2, D6, D3, D7, D4
    "response_due": 8,  # the six accepted, and D10, D5 waiting past the limit
    "responded_on_time": 5,  # all accepted but D4 (escalated automatically first)
    "resolved": 5,  # D1, D2 (closed), D6, D3, D4
    "answered": 5,  # the same five (none awaits verification)
    "ontime_due": 8,  # the five resolved, and D7, D10, D5 past their case deadline
    "resolved_on_time": 5,
    "asked_solved": 2,  # D1 (yes), D3 (no), with the first rating
    "solved": 1,  # D1
    "resolved_ever": 5,
    "reworked": 1,  # D3
    "rated": 3,  # D1, D2, D3
    "satisfied": 2,  # D1, D2
    "handed_on": 4,  # D2, D7, D4, D10
    "returned": 1,  # D7
    "local": 3,  # D1, D6, D3
    "handled": 9,  # all but D9 (rejected) and D8 (merged)
    "extended": 0,
    "rejected": 1,
    "merged": 1,
    "closed": 2,
    "climb_grid": 6,  # D1, D9, D3, D8, D5, D11
    "climb_branch": 1,  # D4
    "climb_village": 4,  # D2, D6, D7, D10
    "climb_town": 0,
    "climb_city": 0,
    "climb_department": 3,  # D2, D7, D10
    # Working seconds: D4's day starts at 08:30, not at its filing at 08:00.
    "accept_seconds": 1800 + 2100 + 1800 + 600 + 2400 + 5400,
    "resolve_seconds": 3600 + 6900 + 9900 + 7200 + 9000,
    "urges": 0,
}
ACCEPT_TIMES = [1800, 2100, 1800, 600, 2400, 5400]
RESOLVE_TIMES = [3600, 6900, 9900, 7200, 9000]


@pytest.fixture
def story(tree: Any, personas: Any, settings: Any, tmp_path: Any) -> Story:
    settings.MEDIA_ROOT = tmp_path
    return build_story(tree, personas)


@pytest.fixture
def now() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
