"""The builder: the area tree level by level with `bulk_create`, paths and counts computed here."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from django.db import reset_queries, transaction

from wangge.registry.demo.households import GridPlan, _households_for, _leader, _rect_of
from wangge.registry.demo.people import cn_ordinal, household_sizes, split_total, village_bases
from wangge.registry.demo.plans import CITY_CODE, CITY_NAME, DEPARTMENTS, TOWN_NAMES, DemoPlan, DemoResult
from wangge.registry.demo.shapes import Rect, centre, city_rect, polygon, tile, town_rects
from wangge.registry.demo.users import create_demo_users
from wangge.registry.models import LEVEL_DEPTH, Area, Level, Person
from wangge.registry.services import department_create


def _area(level: str, code: str, name: str, parent: Area | None, rect: Rect, **extra: Any) -> Area:
    lat, lng = centre(rect)
    return Area(
        level=level,
        code=code,
        name=name,
        parent=parent,
        path=(parent.path if parent else "") + code + "/",
        depth=LEVEL_DEPTH[level],
        boundary=polygon(rect),
        centre_lat=lat,
        centre_lng=lng,
        **extra,
    )


@transaction.atomic
def build_demo(
    plan: DemoPlan,
    *,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
    batch: int = 1000,
) -> DemoResult:
    """Build one demo city in one transaction (all or nothing), then its demo users."""
    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    if plan.towns > len(TOWN_NAMES):
        raise ValueError(f"at most {len(TOWN_NAMES)} towns")

    # 1. Shape: how many villages, branches, grids and households go where (pure arithmetic).
    town_names = TOWN_NAMES[: plan.towns]
    if plan.branches_per_village and plan.villages % plan.towns == 0:
        villages_per_town = [plan.villages // plan.towns] * plan.towns
    else:
        villages_per_town = split_total(plan.villages, plan.towns, rng, jitter=0.25)
    if plan.branches_per_village and plan.grids_per_branch:
        grids_per_village = [plan.branches_per_village * plan.grids_per_branch] * plan.villages
    else:
        grids_per_village = split_total(plan.grids, plan.villages, rng, jitter=0.4, minimum=2)
    if sum(grids_per_village) != plan.grids:
        raise ValueError("the plan's grid count does not match its per-branch shape")
    if plan.households_per_grid:
        sizes = [plan.households_per_grid] * plan.grids
    else:
        sizes = household_sizes(plan.grids, plan.households, rng)
    if sum(sizes) != plan.households:
        raise ValueError("the plan's household count does not match its per-grid shape")
    bases = village_bases(plan.villages, rng)
    used_ids: set[str] = set()

    # 2. The tree above the grids, in memory, with codes, paths, shapes and summed counts.
    say("区域树 area tree")
    city = _area(Level.CITY, CITY_CODE, CITY_NAME, None, city_rect(), household_count=plan.households)
    rects = town_rects(town_names)
    streets = [n for n in town_names if n.endswith("街道")]
    townships = [n for n in town_names if n.endswith("乡")]
    others = [n for n in town_names if n not in streets and n not in townships]
    towns: list[Area] = []
    for name in town_names:
        # Streets take 001…, towns 101…, townships 201…, as national division codes do.
        if name in streets:
            number = streets.index(name) + 1
        elif name in townships:
            number = 200 + townships.index(name) + 1
        else:
            number = 100 + others.index(name) + 1
        towns.append(_area(Level.TOWN, f"{CITY_CODE}{number:03d}", name, city, rects[name], household_count=0))

    villages: list[Area] = []
    for t_index, (town, n_villages) in enumerate(zip(towns, villages_per_town, strict=True)):
        # A street is mostly communities (社区); a town has one or two at its seat, then villages (村).
        if town.name.endswith("街道"):
            n_communities = max(1, round(n_villages * 0.8))
        else:
            n_communities = min(n_villages, 1 + t_index % 2)
        cells = tile(rects[town.name], n_villages)
        for k in range(n_villages):
            base = bases[len(villages)]
            if k < n_communities:
                code, name = f"{town.code}{k + 1:03d}", base + "社区"
            else:
                code, name = f"{town.code}{200 + k - n_communities + 1:03d}", base + "村"
            villages.append(_area(Level.VILLAGE, code, name, town, cells[k], household_count=0))

    branches: list[Area] = []
    grid_plan: list[GridPlan] = []
    sizes_left = iter(sizes)
    for village, n_grids in zip(villages, grids_per_village, strict=True):
        n_branches = plan.branches_per_village or min(rng.randint(2, 5), n_grids)
        if plan.grids_per_branch:
            per_branch = [plan.grids_per_branch] * n_branches
        else:
            per_branch = split_total(n_grids, n_branches, rng, jitter=0.3)
        base = village.name.removesuffix("社区").removesuffix("村")
        in_village = 0
        for b, b_rect in enumerate(tile(_rect_of(village), n_branches)):
            branch = _area(
                Level.BRANCH,
                f"{village.code}{b + 1:02d}",
                f"{base}第{cn_ordinal(b + 1)}党支部",
                village,
                b_rect,
                household_count=0,
            )
            branches.append(branch)
            for g, g_rect in enumerate(tile(b_rect, per_branch[b])):
                in_village += 1
                size = next(sizes_left)
                grid_plan.append(GridPlan(branch, g + 1, in_village, g_rect, size))
                for a in (branch, village, village.parent):
                    a.household_count += size  # type: ignore[union-attr]

    # 3. Write the tree above the grids (bulk_create returns the keys the children need).
    city.save()
    Area.objects.bulk_create(towns)
    Area.objects.bulk_create(villages, batch_size=batch)
    Area.objects.bulk_create(branches, batch_size=batch)
    say(f"  {len(towns)} towns, {len(villages)} villages, {len(branches)} branches")

    # 4. Grid leaders (party members, one per grid), the grids, then their households.
    done = 0
    for start in range(0, len(grid_plan), batch):
        chunk = grid_plan[start : start + batch]
        leaders = [_leader(p.branch, rng, used_ids) for p in chunk]
        Person.objects.bulk_create(leaders, batch_size=batch)
        grids = [
            _area(
                Level.GRID,
                f"{p.branch.code}{p.number:03d}",
                f"{p.branch.name.split('第')[0]}{p.in_village}号微网格",
                p.branch,
                p.rect,
                number=p.number,
                leader=leader,
                household_count=p.size,
            )
            for p, leader in zip(chunk, leaders, strict=True)
        ]
        Area.objects.bulk_create(grids, batch_size=batch)
        _households_for(grids, [p.in_village for p in chunk], rng, used_ids, batch=batch)
        done += len(grids)
        say(f"  {done}/{len(grid_plan)} grids")
        # With DEBUG on, Django keeps every SQL text it ran; a bulk insert's is large. Let it go.
        reset_queries()

    # 5. Departments and demo users.
    for i, (name, phone) in enumerate(DEPARTMENTS, start=1):
        department_create(code=f"{CITY_CODE}-D{i:02d}", name=name, city=city, phone=phone)
    users = create_demo_users(city=city)
    counts = {
        "towns": len(towns),
        "villages": len(villages),
        "branches": len(branches),
        "grids": done,
        "households": plan.households,
        "people": done,
        "departments": len(DEPARTMENTS),
    }
    return DemoResult(counts=counts, users=users)
