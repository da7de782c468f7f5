"""Hot clusters: the worker's incremental grouping against grouping from scratch, and what a pass reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from wangge.triage.hot_reads import clustered_hot_issues
from wangge.triage.hotclusters import hot_clusters_pass
from wangge.triage.models import HotCluster, HotMember
from wangge.triage.selectors import hot_issues
from wangge.triage.tests.test_hot import LIGHTS, NOISE, SINGLES

T0 = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))


def _shown(groups: list[Any]) -> list[tuple[Any, ...]]:
    """What the pages and the API show of each group."""
    return [
        (
            g.name,
            g.size,
            g.users,
            g.areas,
            g.support,
            g.records,
            round(g.heat, 2),
            g.ids,
            g.titles,
            g.extra["demand_ids"],
        )
        for g in groups
    ]


def _file(tree: Any) -> dict[str, list[Any]]:
    from wangge.demands.testing import make_demand

    grids = [tree.grid, tree.sibling_grid, tree.other_grid]
    made: dict[str, list[Any]] = {"lights": [], "noise": [], "singles": []}
    for i, t in enumerate(LIGHTS):
        made["lights"].append(make_demand(grid=grids[i % 3], title=t, description=t, reporter_phone=f"1390000{i:04d}"))
    for i, t in enumerate(NOISE):
        phone = "13900005555" if i else "13900006666"  # two of the three from one person
        made["noise"].append(make_demand(grid=tree.grid, title=t, description=t, reporter_phone=phone))
    for i, t in enumerate(SINGLES):
        made["singles"].append(make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390001{i:04d}"))
    return made


def test_incremental_grouping_equals_grouping_from_scratch(tree: Any) -> None:
    with time_machine.travel(T0, tick=False):
        _file(tree)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        assert hot_clusters_pass() == 12
        since = T0 - dt.timedelta(days=7)
        for area in (None, tree.village.path, tree.grid.path):
            scratch = hot_issues(since=since, area_path=area, top=50)
            assert scratch, area
            assert _shown(clustered_hot_issues(since=since, area_path=area, top=50)) == _shown(scratch)


def test_one_demand_a_pass_groups_as_one_batch(tree: Any) -> None:
    """Demands arriving one pass at a time join the clusters earlier passes made: the same groups."""
    from wangge.demands.testing import make_demand

    since = T0 - dt.timedelta(days=7)
    with time_machine.travel(T0, tick=False):
        for i, t in enumerate([*LIGHTS, *NOISE, *SINGLES]):
            make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
            assert hot_clusters_pass() == 1
        one_by_one = _shown(clustered_hot_issues(since=since, top=50))
        assert HotCluster.objects.count() == 2 + len(SINGLES)
        assert one_by_one == _shown(hot_issues(since=since, top=50))


def test_a_pass_reads_only_the_new_demands(tree: Any) -> None:
    from wangge.demands.testing import make_demand

    with time_machine.travel(T0 - dt.timedelta(days=200), tick=False):
        old = make_demand(grid=tree.grid, title=LIGHTS[0], description=LIGHTS[0])  # outside every window
    with time_machine.travel(T0, tick=False):
        _file(tree)
        assert hot_clusters_pass() == 12
        assert hot_clusters_pass() == 0  # nothing new: nothing read again
        assert not HotMember.objects.filter(demand=old).exists()
        late = [make_demand(grid=tree.grid, title=t, description=t, reporter_phone="13911112222") for t in LIGHTS[:2]]
        sizes = dict(HotCluster.objects.values_list("pk", "size"))
        assert hot_clusters_pass(limit=1) == 1  # a backlog is worked off a batch at a time
        assert hot_clusters_pass() == 1
        assert hot_clusters_pass() == 0
        # The two joined the street-light cluster; no other cluster changed.
        joined = HotMember.objects.get(demand=late[0]).cluster
        assert HotMember.objects.get(demand=late[1]).cluster == joined
        assert joined.size == sizes[joined.pk] + 2
        assert {pk: size for pk, size in HotCluster.objects.values_list("pk", "size") if pk != joined.pk} == {
            pk: size for pk, size in sizes.items() if pk != joined.pk
        }


def test_merged_rejected_and_confidential_demands_count_as_they_do_from_scratch(tree: Any, personas: Any) -> None:
    """Merged away: left out, and support for the demand it joined; rejected (withdrawn) and confidential: in."""
    from wangge.accounts.models import Role
    from wangge.demands.services import demand_follow, demand_merge, demand_reject
    from wangge.demands.testing import make_demand

    with time_machine.travel(T0, tick=False):
        made = _file(tree)
        secret = make_demand(grid=tree.grid, title=LIGHTS[1], description=LIGHTS[1], confidential=True)
        assert hot_clusters_pass() == 13  # put in clusters before they are merged or withdrawn
        demand_follow(demand=made["lights"][0], phone="13922223333")
        demand_follow(demand=made["lights"][1], phone="13900000000")  # already a reporter: one person
        duplicate = made["noise"][2]
        demand_merge(demand=duplicate, actor=personas[Role.GRID_LEADER], into=made["noise"][0])
        withdrawn = made["lights"][3]
        demand_reject(demand=withdrawn, actor=personas[Role.GRID_LEADER], reason="不属于受理范围")
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        since = T0 - dt.timedelta(days=7)
        scratch = hot_issues(since=since, top=50)
        clustered = clustered_hot_issues(since=since, top=50)
    assert _shown(clustered) == _shown(scratch)
    lights = next(g for g in clustered if made["lights"][0].pk in g.extra["demand_ids"])
    noise = next(g for g in clustered if made["noise"][0].pk in g.extra["demand_ids"])
    assert duplicate.pk not in noise.extra["demand_ids"] and noise.support == 1 and noise.size == 2
    assert withdrawn.pk in lights.extra["demand_ids"] and secret.pk in lights.extra["demand_ids"]
    assert lights.users == 5 + 1 + 1  # five reporters, the confidential one's, one new follower


def test_clusters_that_left_every_window_are_deleted(tree: Any) -> None:
    from wangge.demands.testing import make_demand

    with time_machine.travel(T0 - dt.timedelta(days=120), tick=False):
        old = [make_demand(grid=tree.grid, title=t, description=t) for t in LIGHTS[:2]]
        assert hot_clusters_pass() == 2
    with time_machine.travel(T0, tick=False):
        new = make_demand(grid=tree.grid, title=LIGHTS[2], description=LIGHTS[2])
        assert hot_clusters_pass() == 1
    assert list(HotMember.objects.values_list("demand_id", flat=True)) == [new.pk]
    assert HotCluster.objects.get().size == 1  # the new one did not join a cluster of four months ago
    assert not HotMember.objects.filter(demand__in=old).exists()


def test_the_backfill_command_works_off_the_backlog_then_stores_every_set(tree: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from wangge.triage.hot import hot_targets
    from wangge.triage.models import HotIssueSet

    with time_machine.travel(T0, tick=False):
        made = _file(tree)
    demands = sum(len(v) for v in made.values())
    out = StringIO()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        call_command("triage_hot_backfill", "--batch", "5", stdout=out)
        assert HotMember.objects.count() == demands
        lines = out.getvalue().splitlines()
        assert len(lines) == demands // 5 + 2  # one line a batch (the last one short), then the summary
        stored = set(HotIssueSet.objects.values_list("area_path", "days"))
        assert stored == set(hot_targets())
        # The stored city set is what the pages would group from the clusters now.
        week = HotIssueSet.objects.get(area_path="", days=7)
        assert [g["name"] for g in week.groups] == [
            g.name for g in clustered_hot_issues(since=T0 + dt.timedelta(hours=1) - dt.timedelta(days=7), top=50)
        ]
        # A second run finds nothing to do.
        again = StringIO()
        call_command("triage_hot_backfill", "--batch", "5", stdout=again)
        assert again.getvalue().splitlines()[0].startswith("已归入 0 条")


def test_the_backfill_command_refuses_a_batch_or_time_it_cannot_use(db: Any) -> None:
    import pytest
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--batch must be at least 1, got 0"):
        call_command("triage_hot_backfill", "--batch", "0")
    with pytest.raises(CommandError, match="--minutes cannot be negative"):
        call_command("triage_hot_backfill", "--minutes", "-1")
    assert not HotMember.objects.exists()
