"""Moving an area carries every copy of its path along (`registry.services.area_move`).

Every table that belongs to an area stores a copy of the area's path; the models declare those
columns in `area_path_fields` and `area_move` rewrites exactly the declared ones. The first test
keeps the declarations complete; the second moves a grid that holds demands in every kind of hand
and checks queues, permissions and counts afterwards.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from wangge.accounts.models import Role, User
from wangge.demands.models import Demand
from wangge.demands.permissions import can_hold, can_see
from wangge.demands.selectors import demand_list, my_queue
from wangge.demands.services import demand_dispatch, demand_escalate
from wangge.demands.testing import make_demand
from wangge.registry.models import Area, Household
from wangge.registry.services import area_move, path_columns, registry_recount
from wangge.registry.testing import make_household, make_user


def _path_like(field: models.Field) -> bool:
    return isinstance(field, models.CharField) and (field.name == "path" or field.name.endswith("_path"))


def test_every_path_column_is_declared() -> None:
    """A new `*_path` column that is not in its model's `area_path_fields` would be stranded by a move."""
    missing = []
    wrong = []
    for model in apps.get_models():
        if not model.__module__.startswith("wangge."):
            continue
        declared = set(getattr(model, "area_path_fields", ()))
        names = {f.name for f in model._meta.concrete_fields if _path_like(f)}
        missing += [f"{model._meta.label}.{name}" for name in sorted(names - declared)]
        for name in declared:
            field = model._meta.get_field(name)
            if not isinstance(field, models.CharField):
                wrong.append(f"{model._meta.label}.{name}")
    assert missing == [], f"path columns not in area_path_fields (area_move would leave them behind): {missing}"
    assert wrong == [], f"area_path_fields naming something that is not a CharField: {wrong}"
    declared_pairs = {(m._meta.label, name) for m, name in path_columns()}
    # The columns this issue was about, and the area tree itself.
    assert {("demands.Demand", "holder_path"), ("demands.Demand", "area_path"), ("registry.Area", "path")} <= (
        declared_pairs
    )


def _fresh(user: User) -> User:
    # The scope is cached on the user object; a new object reads the areas' new paths.
    return User.objects.get(pk=user.pk)


def test_moving_a_grid_keeps_its_demands_in_the_right_hands(tree: Any, personas: dict[str, Any]) -> None:
    grid, branch = tree.grid, tree.branch
    leader = personas[Role.GRID_LEADER]
    branch_staff = personas[Role.BRANCH]
    dept_staff = personas[Role.DEPARTMENT]
    old_town_staff = personas[Role.TOWN]
    new_branch_staff = make_user(role=Role.BRANCH, areas=[tree.other_branch])
    new_town_staff = personas["outsider"]  # town staff of the town the grid moves into

    for _ in range(3):
        make_household(grid=grid)
    for _ in range(2):
        make_household(grid=tree.sibling_grid)

    held_by_grid = make_demand(grid=grid)
    held_above = demand_escalate(demand=make_demand(grid=grid), actor=leader, reason="需要支部协调")
    at_department = demand_escalate(demand=make_demand(grid=grid), actor=leader, reason="需要支部协调")
    at_department = demand_dispatch(demand=at_department, actor=branch_staff, department=tree.department)
    stays = make_demand(grid=tree.sibling_grid)
    assert held_by_grid in my_queue(user=leader)  # the starting point the move must keep

    old_path = grid.path
    moved = area_move(area=grid, new_parent=tree.other_branch)

    assert moved.path == tree.other_branch.path + grid.code + "/"
    assert moved.parent_id == tree.other_branch.pk
    for model, column in path_columns():
        left = model._base_manager.filter(**{f"{column}__startswith": old_path})
        assert not left.exists(), f"{model._meta.label}.{column} still holds the old path"

    d_grid, d_above, d_dept, d_stays = (
        Demand.objects.get(pk=d.pk) for d in (held_by_grid, held_above, at_department, stays)
    )
    assert (d_grid.area_path, d_grid.holder_path) == (moved.path, moved.path)
    assert d_above.area_path == moved.path and d_above.holder_path == branch.path  # the old branch still holds it
    assert d_dept.area_path == moved.path and d_dept.holder_department_id == tree.department.pk
    assert (d_stays.area_path, d_stays.holder_path) == (tree.sibling_grid.path, tree.sibling_grid.path)

    leader, branch_staff, dept_staff = _fresh(leader), _fresh(branch_staff), _fresh(dept_staff)
    old_town_staff, new_town_staff = _fresh(old_town_staff), _fresh(new_town_staff)

    # Queues: each open demand is in exactly its holder's queue.
    assert list(my_queue(user=leader)) == [d_grid]
    assert set(my_queue(user=branch_staff)) == {d_above}
    assert set(my_queue(user=dept_staff)) == {d_dept}
    assert list(my_queue(user=new_branch_staff)) == []
    assert list(my_queue(user=new_town_staff)) == []

    # Holding: the grid's own leader can still act on the demand the grid holds; nobody new gains a hand.
    assert can_hold(demand=d_grid, user=leader)
    assert can_hold(demand=d_above, user=branch_staff) and not can_hold(demand=d_above, user=leader)
    assert can_hold(demand=d_dept, user=dept_staff) and not can_hold(demand=d_dept, user=leader)
    assert not can_hold(demand=d_grid, user=new_branch_staff)

    # Seeing: the new chain sees the grid's demands, the old chain only what its branch still holds.
    for demand in (d_grid, d_above, d_dept):
        assert can_see(demand=demand, user=leader)
        assert can_see(demand=demand, user=new_branch_staff)
        assert can_see(demand=demand, user=new_town_staff)
    assert not can_see(demand=d_grid, user=old_town_staff)
    assert can_see(demand=d_above, user=old_town_staff)  # held by a branch of the old town
    assert can_see(demand=d_stays, user=old_town_staff) and not can_see(demand=d_stays, user=new_town_staff)
    assert set(demand_list(user=new_town_staff)) == {d_grid, d_above, d_dept}

    # Counts: cumulative household counts moved with the grid, and agree with the rows.
    counts = {a.pk: a.household_count for a in Area.objects.all()}
    assert counts[moved.pk] == 3
    assert counts[branch.pk] == counts[tree.village.pk] == counts[tree.town.pk] == 2
    assert counts[tree.other_branch.pk] == counts[tree.other_village.pk] == counts[tree.other_town.pk] == 3
    assert counts[tree.city.pk] == 5
    assert set(Household.objects.filter(grid=moved).values_list("area_path", flat=True)) == {moved.path}
    assert registry_recount() == 0
