"""Duplicate finder: similar open demands in the same village within the window, nowhere else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from wangge.demands.forms import make_title
from wangge.demands.testing import make_demand
from wangge.triage.matching import Rewriter, TextIndex, load_synonyms, pool_similarity, terms
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


# --- a paraphrase (issue 14): other words, the same manhole cover, 40 m away ----------------------

PARAPHRASE = "东门那个井盖丢了，路过容易踩空"
OPEN_DEMAND = "龙湖小区东门的井盖不见了，晚上很危险"
LAT, LNG = 28.2000, 112.9000
NORTH_40M = 40 / 111_195  # degrees of latitude in 40 m


def test_synonyms_are_data_and_rewrite_both_sides_alike() -> None:
    table = load_synonyms()
    assert table["不见了"] == table["丢了"] == "丢失" and table["窨井盖"] == "井盖"
    rewrite = Rewriter(table)
    assert rewrite("井盖不见了") == rewrite("窨井盖丢了") == "井盖丢失"
    assert Rewriter({"坏了": "损坏"})("灯坏了") == "灯损坏"  # any table, not only the shipped one


def test_the_paraphrase_ranks_first_among_distractors_at_40_m() -> None:
    here = dict(lat=LAT + NORTH_40M, lng=LNG, area_path="a/b/c/g1/", road="龙湖路")
    cands = [
        # the same place, another problem (shares 龙湖小区东门 and 晚上很危险 with the open demand)
        Candidate(id=1, title="龙湖小区东门路灯不亮", description="龙湖小区东门路灯不亮，晚上很危险", **here),
        Candidate(id=2, title="东门那个垃圾桶满了", description="东门那个垃圾桶满了，路过很臭", **here),
        # the same problem, told the same way, but a kilometre away in another grid
        Candidate(
            id=3,
            title="西门外的井盖丢了",
            description="西门外的井盖丢了，容易踩空",
            lat=LAT + 0.009,
            lng=LNG,
            area_path="a/b/c/g2/",
        ),
        Candidate(id=4, title=make_title(OPEN_DEMAND), description=OPEN_DEMAND, **here),
        Candidate(id=5, title="孩子入学报名咨询", description="需要哪些材料", **here),
    ]
    found = rank_duplicates(
        title=make_title(PARAPHRASE),
        description=PARAPHRASE,
        candidates=cands,
        area_path="a/b/c/g1/",
        lat=LAT,
        lng=LNG,
        road="龙湖路",
        window_days=14,
    )
    assert found[0].id == 4
    assert found[0].distance_m is not None and 39 <= found[0].distance_m <= 41
    assert "相距约 40 米" in found[0].reason and "同一网格" in found[0].reason and "同在龙湖路" in found[0].reason
    ids = [m.id for m in found]
    assert 1 not in ids and 2 not in ids and 5 not in ids  # a shared spot alone is not a duplicate
    # Without the synonyms the open demand says much less of what the paraphrase says.
    plain = Rewriter({})
    with_table = pool_similarity(terms(PARAPHRASE), [terms(OPEN_DEMAND)])[0]
    without = pool_similarity(terms(PARAPHRASE, rewriter=plain), [terms(OPEN_DEMAND, rewriter=plain)])[0]
    assert with_table > without


def test_index_and_pool_give_the_same_figure() -> None:
    texts = [
        OPEN_DEMAND,
        "龙湖小区东门路灯不亮，晚上很危险",
        "孩子入学报名咨询，需要哪些材料",
        "西门外的井盖丢了，容易踩空",
    ]
    index = TextIndex(texts)
    pool = pool_similarity(terms(PARAPHRASE), [terms(t) for t in texts], corpus=0)
    assert list(index.similarity(PARAPHRASE)) == pytest.approx(list(pool), abs=1e-5)
    best = index.search(PARAPHRASE, 2)
    assert {best[0][0], best[1][0]} == {0, 3} and best[0][1] >= best[1][1]
    assert index.search(texts[2], 1)[0] == (2, pytest.approx(1.0))  # a text says all of itself


def test_the_selector_finds_the_paraphrase_with_its_distance(tree: Any) -> None:
    with time_machine.travel(T0, tick=False):
        open_one = make_demand(
            grid=tree.grid, title=make_title(OPEN_DEMAND), description=OPEN_DEMAND, lat=LAT + NORTH_40M, lng=LNG
        )
        make_demand(
            grid=tree.grid, title="东门路灯不亮", description="龙湖小区东门路灯不亮，晚上很危险", lat=LAT, lng=LNG
        )
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        found = duplicate_candidates(
            title=make_title(PARAPHRASE), description=PARAPHRASE, area_path=tree.grid.path, lat=LAT, lng=LNG
        )
    assert [c.demand.pk for c in found] == [open_one.pk]
    assert found[0].distance_m is not None and 39 <= found[0].distance_m <= 41


def test_search_rereads_the_best_among_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten messages about one building's other problems say its name twice; the one about its lift says it
    once. Over the whole index the name is rare and wins; among the best twenty it is what they all share,
    and the lift tells them apart."""
    problems = ["停车位被外来车辆占满", "门口垃圾堆放多日无人清运", "外墙瓷砖脱落", "楼道灯不亮", "下水道堵了"]
    problems += ["绿化带被毁", "噪音扰民", "违章搭建", "漏水严重", "路面坑洼"]
    texts = [f"金沙小区三号楼{p}，金沙小区三号楼的居民很苦恼" for p in problems]
    texts.append("金沙小区那栋楼的电梯坏了一个星期，老人上下楼很困难")
    places = ["龙湖小区", "北正社区", "荷花小区", "东方花园", "新城家园", "阳光小区"]
    places += ["幸福里", "和平小区", "翠苑", "锦绣花园", "滨江苑", "金色家园"]
    texts += [f"{place}的电梯坏了" for place in places]
    texts += [f"孩子入学报名咨询{i}" for i in range(100)]
    index = TextIndex(texts)
    assert index.search("金沙小区三号楼电梯坏了", 1)[0][0] == 10
    monkeypatch.setattr("wangge.triage.matching.LOCAL_WEIGHT", 0.0)  # the first stage alone
    assert index.search("金沙小区三号楼电梯坏了", 1)[0][0] < 10


def test_a_large_index_gives_the_full_figure_of_what_it_finds() -> None:
    """Over 200 texts the candidates are chosen without the query's common terms; the figure is whole."""
    texts = [f"{place}第{i}号楼前的路灯坏了，晚上很黑" for i, place in enumerate(["荷花小区", "龙湖小区"] * 150)]
    texts.append(OPEN_DEMAND)
    index = TextIndex(texts)
    query = "龙湖小区东门的井盖丢了，晚上很黑"  # 龙湖小区, 晚上很黑: in half or all of the texts
    full = index.similarity(query)
    found = index.search(query, 3)
    assert found[0][0] == len(texts) - 1
    assert found[1][1] > 0  # a street light of 龙湖小区 says some of it, through the common terms alone
    assert [score for _, score in found] == pytest.approx([float(full[i]) for i, _ in found], abs=1e-5)
