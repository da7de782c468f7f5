"""Hot issues count people, not system events: inspection failures filed with no reporter are records apart.

Before, each system-filed demand counted as a person of its own (68 automatic toilet-inspection failures
showed as "68 位群众") and outranked what residents reported.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.demands.services import demand_follow
from wangge.demands.testing import make_demand
from wangge.triage.selectors import hot_issues, hot_issues_for
from wangge.triage.similarity import HotRecord, heat_of, hot_groups

pytestmark = pytest.mark.django_db

TOILET = "金沙公厕卫生差无人打扫"


def _world(tree: Any) -> dict[str, Any]:
    """12 people (one reporter twice, one by household only, one follower) and 15 system-filed inspection failures."""
    from wangge.registry.testing import make_household

    people = []
    for i in range(10):
        people.append(
            make_demand(grid=tree.grid, title=TOILET, description=TOILET + f"第{i}次", reporter_phone=f"1390000{i:04d}")
        )
    people.append(
        make_demand(grid=tree.grid, title=TOILET, description=TOILET + "又反映", reporter_phone="13900000000")
    )
    household = make_household(grid=tree.sibling_grid)
    people.append(
        make_demand(
            grid=tree.sibling_grid,
            channel="visit",
            title=TOILET,
            description=TOILET + "走访",
            reporter_phone="",
            household=household,
        )
    )
    records = [
        make_demand(
            grid=tree.grid,
            channel="inspection",
            title=TOILET,
            description=TOILET + f"巡查不合格{i}",
            reporter_name="保洁员",
            reporter_phone="",
        )
        for i in range(15)
    ]
    # A neighbour follows one resident's demand: a person; following twice (two demands) is still one.
    demand_follow(demand=people[0], phone="13700001111")
    demand_follow(demand=people[1], phone="13700001111")
    return {"people": people, "records": records}


def test_system_filed_records_count_apart_from_people(tree: Any) -> None:
    w = _world(tree)
    groups = hot_issues(since=clock.now().date(), area_path=tree.village.path)
    assert len(groups) == 1
    g = groups[0]
    # 10 phones + 1 household + 1 follower = 12 people; the repeat by 13900000000 counts once.
    assert g.users == 12
    assert g.records == 15
    assert g.size == 12 + 15
    assert sorted(g.extra["demand_ids"]) == sorted(d.pk for d in w["people"] + w["records"])


ITEMS = ["地面清洁", "洗手池", "冲水设施", "照明", "通风除臭", "厕纸供应"]
NOISE = ["白沙路夜宵摊噪音扰民", "白沙路夜宵摊深夜噪音太大", "投诉白沙路夜宵摊噪音扰民", "白沙路夜宵摊噪音吵得睡不着"]


def test_68_inspection_failures_never_outrank_four_residents() -> None:
    records = [
        HotRecord(id=f"r{i}", title=f"公厕「金沙公厕」巡检不合格：{ITEMS[i % 6]}", system=True) for i in range(68)
    ]
    people = [HotRecord(id=f"p{i}", title=t, user=f"u{i}") for i, t in enumerate(NOISE)]
    groups = hot_groups(records + people)
    assert groups[0].users == 4 and groups[0].records == 0 and "夜宵" in groups[0].name
    assert groups[0].heat == heat_of(size=4, users=4, areas=1, support=0)
    toilets = groups[1:]
    assert toilets and all(g.users == 0 for g in toilets)
    assert sum(g.records for g in toilets) == sum(g.size for g in toilets) >= 60


def test_hot_page_shows_people_and_records_apart(tree: Any, personas: Any) -> None:
    _world(tree)
    client = Client()
    client.force_login(personas[Role.TOWN])
    body = client.get(reverse("triage:hot")).content.decode()
    assert "12 位群众" in body and "15 条巡查记录" in body
    assert "27 位群众" not in body
    assert 'data-testid="make-topic"' in body
    issue = hot_issues_for(user=personas[Role.TOWN], days=7)[0]
    assert issue.users == 12 and issue.records == 15 and len(issue.demands) == 27
