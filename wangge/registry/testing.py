"""Small factories for tests in every app: plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_create
from wangge.registry.models import Area, Department, Household, Level
from wangge.registry.services import area_create, department_create, household_create, person_create

_seq = itertools.count(1)


def make_area(*, level: str, parent: Area | None = None, **overrides: Any) -> Area:
    n = next(_seq)
    code = overrides.pop("code", None)
    if not code:
        # The counter restarts with each process: skip the codes a fixture tree already holds (its grid is "…001").
        while Area.objects.filter(code=f"{parent.code if parent else 'T'}{n:03d}").exists():
            n = next(_seq)
        code = f"{parent.code if parent else 'T'}{n:03d}"
    name = overrides.pop("name", None) or f"{level}-{n}"
    return area_create(level=level, code=code, name=name, parent=parent, **overrides)


def make_household(*, grid: Area, **overrides: Any) -> Household:
    n = next(_seq)
    data: dict[str, Any] = {"address": f"{grid.name}{n}号", "head_name": f"户主{n}", "phone": "", "members": 3}
    data.update(overrides)
    return household_create(grid=grid, **data)


def make_user(
    *, role: str, areas: list[Area] | None = None, departments: list[Department] | None = None, **kw: Any
) -> User:
    n = next(_seq)
    return user_create(
        username=kw.pop("username", f"{role}{n}"),
        password=kw.pop("password", "demo-pass-123"),
        role=role,
        display_name=kw.pop("display_name", f"{role}{n}"),
        areas=areas or [],
        departments=departments or [],
        **kw,
    )


@dataclass
class Tree:
    """Two of everything, so that every test has an inside and an outside."""

    city: Area
    town: Area
    village: Area
    branch: Area
    grid: Area
    other_town: Area
    other_village: Area
    other_branch: Area
    other_grid: Area
    sibling_grid: Area
    department: Department
    other_department: Department


def make_tree(city_code: str = "430181") -> Tree:
    city = area_create(level=Level.CITY, code=city_code, name="浏阳市")
    town = area_create(level=Level.TOWN, code=city_code + "100", name="集里街道", parent=city)
    village = area_create(level=Level.VILLAGE, code=city_code + "100201", name="金沙社区", parent=town)
    branch = area_create(level=Level.BRANCH, code=city_code + "10020101", name="金沙第一党支部", parent=village)
    grid = area_create(level=Level.GRID, code=city_code + "10020101001", name="金沙1号微网格", parent=branch, number=1)
    sibling = area_create(
        level=Level.GRID, code=city_code + "10020101002", name="金沙2号微网格", parent=branch, number=2
    )
    other_town = area_create(level=Level.TOWN, code=city_code + "101", name="淮川街道", parent=city)
    other_village = area_create(level=Level.VILLAGE, code=city_code + "101201", name="北正社区", parent=other_town)
    other_branch = area_create(
        level=Level.BRANCH, code=city_code + "10120101", name="北正第一党支部", parent=other_village
    )
    other_grid = area_create(
        level=Level.GRID, code=city_code + "10120101001", name="北正1号微网格", parent=other_branch, number=1
    )
    dept = department_create(code=city_code + "-D01", name="供电公司", city=city)
    other_dept = department_create(code=city_code + "-D02", name="住建局", city=city)
    return Tree(
        city,
        town,
        village,
        branch,
        grid,
        other_town,
        other_village,
        other_branch,
        other_grid,
        sibling,
        dept,
        other_dept,
    )


def make_personas(tree: Tree) -> dict[str, User]:
    """One user of every role inside `tree.grid`'s chain, plus an outsider in the other town."""
    leader_person = person_create(name="张建国", phone="13800001111", is_party_member=True, branch=tree.branch)
    personas = {
        Role.GRID_LEADER: make_user(role=Role.GRID_LEADER, areas=[tree.grid], username="p_grid"),
        Role.BRANCH: make_user(role=Role.BRANCH, areas=[tree.branch], username="p_branch"),
        Role.VILLAGE: make_user(role=Role.VILLAGE, areas=[tree.village], username="p_village"),
        Role.TOWN: make_user(role=Role.TOWN, areas=[tree.town], username="p_town"),
        Role.DEPARTMENT: make_user(role=Role.DEPARTMENT, departments=[tree.department], username="p_dept"),
        Role.CITY_ADMIN: make_user(role=Role.CITY_ADMIN, areas=[tree.city], username="p_city"),
        Role.AUDITOR: make_user(role=Role.AUDITOR, areas=[tree.city], username="p_auditor"),
        "outsider": make_user(role=Role.TOWN, areas=[tree.other_town], username="p_outsider"),
    }
    leader_person.user = personas[Role.GRID_LEADER]
    leader_person.save(update_fields=["user"])
    from wangge.registry.services import grid_set_leader

    grid_set_leader(grid=tree.grid, leader=leader_person)
    return personas
