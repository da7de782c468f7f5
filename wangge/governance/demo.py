"""Demo data for governance topics: the week's hottest issue taken on as this month's topic (每月一题).

`seed(city_area)` is a hook for `seed_demo` (WANGGE_DEMO_HOOKS), run after triage's demo so the hot
issues exist. It asks triage for the city's hot issues of the last 14 days, makes the hottest one a
topic led by the city management bureau (城管局), activates it with a plan and adds two dated progress
notes, so `/topics/` and the console show a topic with real linked demands. Everything goes through
the services; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from wangge.accounts.models import User
from wangge.core import clock
from wangge.governance.models import GovernanceTopic
from wangge.governance.services import topic_create_from_hot_issue, topic_progress_add, topic_update
from wangge.registry.models import Area, Department
from wangge.registry.services import department_create
from wangge.triage.selectors import hot_issues

LEAD = "城管局"
PLAN = (
    "一、5个工作日内完成排查，建立问题清单；二、责任单位限期整改，网格长每周回访；三、月底前完成验收，结果在本页公开。"
)
PROGRESS = (
    (6, "已完成现场排查，涉及点位已列入整改清单，明确责任人和完成时限。"),
    (2, "已完成大部分点位整改，网格长逐户回访，群众反映情况明显好转。"),
)


def _lead(city: Area) -> Department:
    found = Department.objects.filter(area=city, name=LEAD).first()
    return found or department_create(code=f"{city.code}-CG", name=LEAD, city=city)


@transaction.atomic
def seed(city_area: Area) -> dict[str, Any]:
    """The hook for seed_demo: one active topic made from the city's hottest issue of the last two weeks."""
    city = city_area
    if GovernanceTopic.objects.filter(area_path__startswith=city.path).exists():
        return {"topics": 0}
    admin = User.objects.filter(username="demo_city").first()
    if admin is None:
        return {"topics": 0}
    # The issue most people raised (not the one with most records: inspections file many on their own).
    groups = hot_issues(since=clock.now() - dt.timedelta(days=14), area_path=city.path, top=5)
    if not groups:
        return {"topics": 0}
    hot = max(groups, key=lambda group: (group.users, group.heat))
    today = clock.today_local()
    topic = topic_create_from_hot_issue(
        user=admin,
        title=f"集中整治：{hot.name}",
        area=city,
        department=_lead(city),
        due_on=today + dt.timedelta(days=30),
        demand_ids=[int(i) for i in hot.member_ids or hot.ids],
        keywords=hot.key_words,
        summary=f"近两周 {hot.users} 位群众反映同类问题，列为本月重点治理事项。",
        plan=PLAN,
    )
    topic_update(user=admin, topic=topic, activate=True)
    for days_ago, note in PROGRESS:
        topic_progress_add(user=admin, topic=topic, note=note, on=today - dt.timedelta(days=days_ago))
    return {"topics": 1, "linked": topic.links.count()}
