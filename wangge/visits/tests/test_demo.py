"""The seed_demo hook: visits in the demo village through the services, and a second run adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.registry.testing import make_household, make_user
from wangge.visits import demo, selectors
from wangge.visits.models import FollowUp, Opinion, Visit

pytestmark = pytest.mark.django_db


def test_demo_visits_fill_the_workbench_and_coverage(tree: Any) -> None:
    assert demo.seed(tree.city) == {"visits": 0, "opinions": 0, "demands": 0}  # no demo logins yet
    leader = make_user(role=Role.GRID_LEADER, areas=[tree.grid], username="demo_grid")
    make_user(role=Role.VILLAGE, areas=[tree.village], username="demo_village")
    for grid in (tree.grid, tree.sibling_grid):
        for _ in range(15):
            make_household(grid=grid)
    outside = make_household(grid=tree.other_grid)
    counts = demo.seed(tree.city)
    assert counts["visits"] == Visit.objects.count() > 15
    assert counts["opinions"] == Opinion.objects.count() and counts["demands"] >= 1
    assert not Visit.objects.filter(household=outside).exists()
    assert set(Visit.objects.filter(grid=tree.grid).values_list("visitor", flat=True)) == {leader.pk}
    cover = selectors.coverage(user=leader).total
    assert cover.households == 15 and 0 < cover.visited_this_month < 15 and 0 < cover.never_visited < 15
    if Opinion.objects.count() >= 3:
        assert Opinion.objects.filter(state=FollowUp.ANSWERED).exclude(answer="").exists()
    assert demo.seed(tree.city) == {"visits": 0, "opinions": 0, "demands": 0}
    assert Visit.objects.count() == counts["visits"]
