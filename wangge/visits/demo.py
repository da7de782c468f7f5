"""Demo visits (民情大走访) for `seed_demo`: two months of rounds in the demo grid leader's village.

`seed(city_area)` is the hook. The demo grid leader (demo_grid) visits the households of their own
grid, the village cadre (demo_village) those of the other grids of the village; about half the
households were visited this month, some only last month, the rest never, so the workbench and the
coverage page have something to show. Opinions are heard on some visits and followed up by the
village; two visits raise a demand. Everything goes through the services; a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from wangge.accounts.models import User
from wangge.core import clock
from wangge.registry.models import Area, Household, Level
from wangge.visits.models import Opinion, Visit
from wangge.visits.selectors import month_bounds
from wangge.visits.services import DemandDraft, OpinionDraft, opinion_follow_up, visit_log

NOTES = [
    "入户看望，家中老人身体尚可，叮嘱注意防滑防跌倒",
    "电话问候，了解孩子上学和家庭收入情况",
    "宣传医保缴费和防诈骗知识，发放宣传单",
    "了解到家中有人外出务工，留守老人生活能自理",
    "询问近期用水用电情况，无异常",
    "参加屋场会，听取村民对村道硬化的意见",
]
OPINIONS = [
    ("希望村里增设老年食堂，方便独居老人吃饭", "livelihood"),
    ("建议在路口加装路灯，晚上出行不安全", "infrastructure"),
    ("垃圾收运时间不固定，希望定时定点", "environment"),
    ("希望多开展农技培训，发展油茶种植", "development"),
    ("邻里宅基地边界有争议，请村里帮忙调解", "safety"),
    ("村务公开栏内容更新不及时", "policy"),
]
DEMANDS = [
    "屋后排水沟堵塞，下雨时积水进屋，需要疏通",
    "门前路灯坏了一周，晚上看不清路",
]
HOWS = ["in_person"] * 6 + ["phone"] * 2 + ["wechat", "group_meeting"]


def _at(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max(int((end - start).total_seconds()), 1)
    return start + dt.timedelta(seconds=rng.randrange(span))


def seed(city_area: Area) -> dict[str, int]:
    """The hook for seed_demo: visits, opinions and two demands in the demo grid leader's village."""
    leader = User.objects.filter(username="demo_grid").first()
    cadre = User.objects.filter(username="demo_village").first()
    grid = Area.objects.filter(user_scopes__user=leader, level=Level.GRID).first() if leader else None
    if leader is None or cadre is None or grid is None:
        return {"visits": 0, "opinions": 0, "demands": 0}
    village = Area.objects.filter(path__in=grid.ancestor_paths(), level=Level.VILLAGE).first()
    if village is None or Visit.objects.filter(area_path__startswith=village.path).exists():
        return {"visits": 0, "opinions": 0, "demands": 0}
    rng = random.Random(20260415)
    now = clock.now()
    month_start, _end = month_bounds()
    # "Earlier" visits fall 35 to 70 days back: last month or the one before, never this month.
    early_start, early_end = now - dt.timedelta(days=70), min(now - dt.timedelta(days=35), month_start)
    counts: dict[str, Any] = {"visits": 0, "opinions": 0, "demands": 0}
    demands_left = list(DEMANDS)
    opinions: list[Opinion] = []
    for household in Household.objects.filter(area_path__startswith=village.path).order_by("area_path", "id"):
        own = household.grid_id == grid.pk
        visitor = leader if own else cadre
        roll = rng.random()
        if roll < 0.25:
            continue  # never visited
        times = [_at(rng, early_start, early_end)]
        if roll >= 0.5:
            times.append(_at(rng, month_start, now - dt.timedelta(minutes=5)))
        for i, when in enumerate(times):
            latest = i == len(times) - 1
            heard = [OpinionDraft(*rng.choice(OPINIONS))] if latest and rng.random() < 0.2 else []
            demand = None
            if own and latest and demands_left and rng.random() < 0.5:
                demand = DemandDraft(description=demands_left.pop(0))
            visit = visit_log(
                visitor=visitor,
                household=household,
                how=rng.choice(HOWS),
                notes=rng.choice(NOTES),
                visited_at=when,
                opinions=heard,
                demand=demand,
            ).visit
            counts["visits"] += 1
            counts["opinions"] += len(heard)
            counts["demands"] += int(visit.demand_id is not None)
            opinions.extend(visit.opinions.all())
    # The village follows up some of what was heard: a third adopted, a third answered.
    for n, opinion in enumerate(opinions):
        if n % 3 == 1:
            opinion_follow_up(opinion=opinion, actor=cadre, state="adopted")
        elif n % 3 == 2:
            opinion_follow_up(
                opinion=opinion, actor=cadre, state="answered", answer="已在村民代表会上研究，纳入本月为民办实事清单"
            )
    return counts
