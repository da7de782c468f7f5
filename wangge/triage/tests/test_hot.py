"""Hot issues: two obvious groups are found, named by their words and ranked by heat."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from wangge.triage.selectors import hot_issues
from wangge.triage.similarity import HotRecord, heat_of, hot_groups

LIGHTS = [
    "荷花小区路灯不亮好几天了",
    "荷花小区的路灯坏了晚上不亮",
    "荷花小区路灯晚上不亮请维修",
    "反映荷花小区路灯不亮的问题",
    "荷花小区路灯又不亮了",
]
NOISE = [
    "白沙路夜宵摊噪音扰民",
    "白沙路夜宵摊深夜噪音太大",
    "投诉白沙路夜宵摊噪音扰民",
]
SINGLES = ["孩子入学报名咨询", "幼儿园收费过高", "河道漂浮垃圾无人打捞", "公交站台破损"]


def _records() -> list[HotRecord]:
    out = []
    for i, t in enumerate(LIGHTS):
        out.append(HotRecord(id=f"L{i}", title=t, user=f"u{i}", support=1))
    for i, t in enumerate(NOISE):
        out.append(HotRecord(id=f"N{i}", title=t, user="same-user" if i else "other", support=10))
    for i, t in enumerate(SINGLES):
        out.append(HotRecord(id=f"S{i}", title=t, user=f"s{i}"))
    return out


def test_two_obvious_groups_are_found_and_named() -> None:
    groups = hot_groups(_records(), top=5)
    assert len(groups) == 2
    by_first = {g.ids[0][0]: g for g in groups}
    lights, noise = by_first["L"], by_first["N"]
    assert sorted(lights.ids) == [f"L{i}" for i in range(5)] and lights.size == 5 and lights.users == 5
    assert noise.size == 3 and noise.users == 2 and noise.support == 30
    assert "路灯" in lights.name and "荷花" in lights.name
    assert "噪音" in noise.name or "夜宵" in noise.name
    # Ranked by heat: five people outweigh two people with many likes.
    assert groups[0] is lights
    assert lights.heat == heat_of(size=5, users=5, areas=1, support=5)


def test_nothing_hot_in_unrelated_messages() -> None:
    assert hot_groups([HotRecord(id=str(i), title=t) for i, t in enumerate(SINGLES)]) == []


def test_hot_issues_over_demands_in_a_period_and_area(tree: Any) -> None:
    from wangge.demands.testing import make_demand

    t0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    with time_machine.travel(t0, tick=False):
        for i, t in enumerate(LIGHTS[:4]):
            make_demand(
                grid=tree.grid if i % 2 else tree.sibling_grid, title=t, description=t, reporter_phone=f"1390000{i:04d}"
            )
        make_demand(grid=tree.other_grid, title=LIGHTS[4], description=LIGHTS[4], reporter_phone="13900009999")
    with time_machine.travel(t0 - dt.timedelta(days=30), tick=False):
        make_demand(grid=tree.grid, title=LIGHTS[0], description=LIGHTS[0], reporter_phone="13900008888")

    with time_machine.travel(t0 + dt.timedelta(days=1), tick=False):
        groups = hot_issues(since=t0.date() - dt.timedelta(days=6), area_path=tree.village.path)
    assert len(groups) == 1
    g = groups[0]
    assert g.size == 4 and g.users == 4 and g.areas == 2
    assert "路灯" in g.name
    assert len(g.extra["demand_ids"]) == 4


def test_the_worker_stores_hot_issues_and_the_pages_read_them(tree: Any, personas: Any, monkeypatch: Any) -> None:
    """After the worker's pass the page's groups come from the stored set, equal to grouping live."""
    from wangge.demands.testing import make_demand
    from wangge.triage import hot, selectors
    from wangge.triage.models import HotIssueSet

    t0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    with time_machine.travel(t0, tick=False):
        for i, t in enumerate(LIGHTS):
            make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
    with time_machine.travel(t0 + dt.timedelta(hours=1), tick=False):
        live = selectors.hot_issues_for(user=personas["city_admin"], days=7)
        report = hot.hot_issues_pass()
        assert report["assigned"] == 5 and report["regrouped"] >= 1  # at least one set within the budget
        assert HotIssueSet.objects.filter(area_path="", days=7).exists()  # the city-wide week comes first

        def no_grouping(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("grouped live although the worker stored the set")

        monkeypatch.setattr(selectors, "hot_groups", no_grouping)
        stored = selectors.hot_issues_for(user=personas["city_admin"], days=7)
    assert len(live) == 1 and live[0].size == 5
    assert [(i.name, i.size, i.users, i.heat, [d.pk for d in i.demands]) for i in stored] == [
        (i.name, i.size, i.users, i.heat, [d.pk for d in i.demands]) for i in live
    ]
    # A set the worker keeps is never grouped by a page: an old one is still shown (the worker is behind)...
    with time_machine.travel(t0 + dt.timedelta(hours=3), tick=False):
        late = selectors.hot_issues_for(user=personas["city_admin"], days=7)
    assert [(i.name, i.size) for i in late] == [(i.name, i.size) for i in live]
    # A window the worker does not keep is grouped live (here: refused by the stand-in above).
    with time_machine.travel(t0 + dt.timedelta(hours=3), tick=False), pytest.raises(AssertionError, match="grouped"):
        selectors.hot_issues_for(user=personas["city_admin"], days=14)


def test_before_the_workers_first_set_a_page_groups_only_the_newest_demands(
    tree: Any, personas: Any, settings: Any
) -> None:
    """A kept set the worker has not made yet (a big database still being put in clusters) is grouped
    live from the newest TRIAGE_HOT_LIVE_ROWS demands only; a window the worker does not keep, from all."""
    from wangge.demands.testing import make_demand
    from wangge.triage import selectors

    settings.TRIAGE_HOT_LIVE_ROWS = 3
    t0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    for i, t in enumerate(LIGHTS):
        with time_machine.travel(t0 + dt.timedelta(minutes=i), tick=False):
            make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
    with time_machine.travel(t0 + dt.timedelta(hours=1), tick=False):
        kept = selectors.hot_issues_for(user=personas["city_admin"], days=7)
        other = selectors.hot_issues_for(user=personas["city_admin"], days=14)
    assert [i.size for i in kept] == [3] and [i.size for i in other] == [len(LIGHTS)]


def test_a_pass_within_its_budget_stores_the_city_and_every_area_from_one_grouping(
    tree: Any, settings: Any, monkeypatch: Any
) -> None:
    """With one city, the sets of every area ("") and of the city are one grouping; a set whose last
    grouping would carry the pass past its budget waits for the next pass (the first set never waits)."""
    from wangge.demands.testing import make_demand
    from wangge.triage import hot
    from wangge.triage.models import HotIssueSet

    t0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    with time_machine.travel(t0, tick=False):
        for i, t in enumerate(LIGHTS):
            make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
    settings.TRIAGE_HOT_PASS_SECONDS = 0  # one grouping a pass
    with time_machine.travel(t0 + dt.timedelta(hours=1), tick=False):
        assert hot.hot_issues_pass()["regrouped"] == 1
    week = {row.area_path: row for row in HotIssueSet.objects.filter(days=7)}
    assert set(week) == {"", tree.city.path}
    assert week[""].groups == week[tree.city.path].groups and week[""].groups[0]["size"] == len(LIGHTS)
    assert week[""].computed_at == week[tree.city.path].computed_at
    # Every set done once; then one that took long last time is not started past the budget.
    settings.TRIAGE_HOT_PASS_SECONDS = 60
    with time_machine.travel(t0 + dt.timedelta(hours=2), tick=False):
        hot.hot_issues_pass()
    assert HotIssueSet.objects.count() == len(hot.hot_targets())
    HotIssueSet.objects.update(seconds=0.01)
    HotIssueSet.objects.filter(area_path=tree.town.path, days=30).update(seconds=120)
    calls: list[tuple[str, int]] = []
    real = hot.hot_issue_set_refresh

    def counted(**kwargs: Any) -> Any:
        calls.append((kwargs["area_path"], kwargs["days"]))
        return real(**kwargs)

    monkeypatch.setattr(hot, "hot_issue_set_refresh", counted)
    HotIssueSet.objects.filter(area_path=tree.town.path, days=30).update(computed_at=t0)  # the only one due
    with time_machine.travel(t0 + dt.timedelta(hours=2, minutes=10), tick=False):
        assert hot.hot_issues_pass()["regrouped"] == 1  # the first of a pass is done, although it took long
    assert calls == [(tree.town.path, 30)]
    HotIssueSet.objects.filter(area_path=tree.town.path, days=30).update(computed_at=t0, seconds=120)
    HotIssueSet.objects.filter(area_path=tree.town.path, days=7).update(computed_at=t0 - dt.timedelta(minutes=1))
    with time_machine.travel(t0 + dt.timedelta(hours=2, minutes=10), tick=False):
        assert hot.hot_issues_pass()["regrouped"] == 1  # the 7 days; the 30 days (120 s) would pass the budget
    assert calls[1:] == [(tree.town.path, 7)]


def test_longer_windows_are_regrouped_less_often(tree: Any, settings: Any, monkeypatch: Any) -> None:
    """Each set waits until its window has moved by the same share of itself: 15 minutes for 7 days,
    about 64 minutes for 30, about 3 h 13 min for 90."""
    from wangge.demands.testing import make_demand
    from wangge.triage import hot

    settings.TRIAGE_HOT_REFRESH_SECONDS = 900
    settings.TRIAGE_HOT_PASS_SECONDS = 600
    assert hot.refresh_period(7) == dt.timedelta(minutes=15)
    assert hot.refresh_period(90) == dt.timedelta(seconds=900 * 90 / 7)
    t0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    with time_machine.travel(t0, tick=False):
        for i, t in enumerate(LIGHTS):
            make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
    start = t0 + dt.timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        hot.hot_issues_pass()  # every set, once
    calls: list[int] = []
    real = hot.hot_issue_set_refresh

    def counted(**kwargs: Any) -> Any:
        calls.append(kwargs["days"])
        return real(**kwargs)

    monkeypatch.setattr(hot, "hot_issue_set_refresh", counted)
    for minutes, windows in ((14, set()), (16, {7}), (65, {7, 30}), (3 * 60 + 14, {7, 30, 90})):
        calls.clear()
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            hot.hot_issues_pass()
        assert set(calls) == windows, minutes
