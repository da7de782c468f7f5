"""Duplicate finder: similar open demands in the same village within the window, nowhere else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from wangge.demands.testing import make_demand
from wangge.triage.selectors import village_prefix
from wangge.triage.services import duplicate_candidates
from wangge.triage.similarity import Candidate, rank_duplicates, text_similarity

T0 = timezone.make_aware(dt.datetime(2026, 4, 1, 9, 0))


def test_similarity_separates_the_same_problem_from_another() -> None:
    same = text_similarity("金沙社区路灯不亮", "三号楼前的路灯坏了", "金沙社区三号楼路灯坏了", "晚上路灯不亮很黑")
    other = text_similarity("金沙社区路灯不亮", "三号楼前的路灯坏了", "孩子入学报名咨询", "需要哪些材料")
    assert same > 0.5 > other


def test_rank_duplicates_boosts_same_category_and_nearby_and_explains() -> None:
    cands = [
        Candidate(id=1, title="荷花小区路灯不亮", description="路灯坏了", category_code="0102", area_path="a/b/c/g1/"),
        Candidate(id=2, title="荷花小区路灯不亮", description="路灯坏了", category_code="0301", area_path="a/b/c/g2/"),
        Candidate(
            id=3, title="幼儿园收费过高", description="收费涨了很多", category_code="0801", area_path="a/b/c/g1/"
        ),
    ]
    found = rank_duplicates(
        title="荷花小区路灯坏了",
        description="晚上路灯不亮",
        candidates=cands,
        area_path="a/b/c/g1/",
        category_code="01",
    )
    assert [m.id for m in found] == [1, 2]
    assert found[0].score > found[1].score
    assert "同一类别" in found[0].reason and "同一网格" in found[0].reason


def test_village_prefix() -> None:
    assert village_prefix("430181/430181100/430181100201/43018110020101/x/") == "430181/430181100/430181100201/"
    assert village_prefix("430181/430181100/") == "430181/430181100/"


def test_open_demands_in_the_same_village_within_the_window(tree: Any) -> None:
    with time_machine.travel(T0, tick=False):
        old = make_demand(grid=tree.grid, title="金沙社区路灯不亮", description="三号楼前路灯坏了很多天")
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        sibling = make_demand(grid=tree.sibling_grid, title="金沙社区三号楼路灯坏了", description="晚上路灯不亮")
        elsewhere = make_demand(grid=tree.other_grid, title="北正社区路灯不亮", description="三号楼前路灯坏了很多天")
        unrelated = make_demand(grid=tree.grid, title="孩子入学报名咨询", description="需要哪些材料")

    with time_machine.travel(T0 + dt.timedelta(days=12), tick=False):
        found = duplicate_candidates(
            title="三号楼路灯不亮", description="路灯坏了，晚上很黑", area_path=tree.grid.path, window_days=14
        )
        ids = [c.demand.pk for c in found]
        assert old.pk in ids and sibling.pk in ids  # same grid and the sibling grid of the village
        assert elsewhere.pk not in ids  # another village
        assert unrelated.pk not in ids  # not similar
        assert all(c.score >= 0.45 and c.reason for c in found)
        assert "天内" in found[0].reason

    # 20 days after the first report, it has left the 14-day window; the sibling has not.
    with time_machine.travel(T0 + dt.timedelta(days=20), tick=False):
        ids = [
            c.demand.pk
            for c in duplicate_candidates(title="三号楼路灯不亮", description="路灯坏了", area_path=tree.grid.path)
        ]
        assert old.pk not in ids and sibling.pk in ids


def test_closed_demands_are_not_offered(tree: Any) -> None:
    from wangge.demands.models import Demand

    with time_machine.travel(T0, tick=False):
        d = make_demand(grid=tree.grid, title="金沙社区路灯不亮", description="路灯坏了")
        Demand.objects.filter(pk=d.pk).update(state="closed")
        found = duplicate_candidates(title="金沙社区路灯不亮", description="路灯坏了", area_path=tree.grid.path)
    assert found == []
