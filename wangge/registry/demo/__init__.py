"""Demo data: a generated county city shaped like Liuyang (浏阳市), from a few areas to full size.

Everything here is generated from a seeded random generator, never copied: names come from a
surname frequency list and common given-name characters, ID numbers are made up (with a correct
checksum), phones are random mobiles. Only the city and its 32 town and street names are real,
because a demo of Liuyang should read like Liuyang.

Speed matters (the reference city is 419,200 households in 32,000 micro-grids and must load in
minutes on 2 cores), so the tree is built level by level with `bulk_create` and the paths and
cumulative household counts are computed here in Python, not by one service call per row. The
rules the services keep still hold, and the tests prove it: paths follow the tree, no grid holds
more than GRID_HARD_MAX households, counts equal a direct COUNT, and every household key is the one
`registry.services.household_key` gives.

`plans` holds the city's names and the sizes of each plan, `people` the pure generators of names,
ID numbers and household sizes, `shapes` the rectangles areas are drawn as, `tree` the builder,
`households` what one grid holds, `users` the demo accounts.
"""

from __future__ import annotations

from wangge.registry.demo.households import GridPlan
from wangge.registry.demo.people import (
    cn_ordinal,
    household_sizes,
    id_number,
    person_name,
    split_total,
    unique_id_number,
    village_bases,
)
from wangge.registry.demo.plans import (
    CITY_CENTRE,
    CITY_CODE,
    CITY_NAME,
    CITY_SIZE_KM,
    CN_NUM,
    DEPARTMENTS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    ID_SHARE,
    LATTICE,
    MEMBER_WEIGHTS,
    PHONE_SHARE,
    PLANS,
    REFERENCE_DAY,
    SURNAMES,
    TAG_RATES,
    TOWN_CELLS,
    TOWN_NAMES,
    VILLAGE_FIRST,
    VILLAGE_SECOND,
    DemoPlan,
    DemoResult,
)
from wangge.registry.demo.shapes import Rect, centre, city_rect, polygon, tile, town_rects
from wangge.registry.demo.tree import build_demo
from wangge.registry.demo.users import create_demo_users

__all__ = [
    "CITY_CENTRE",
    "CITY_CODE",
    "CITY_NAME",
    "CITY_SIZE_KM",
    "CN_NUM",
    "DEPARTMENTS",
    "GIVEN_FEMALE",
    "GIVEN_MALE",
    "ID_SHARE",
    "LATTICE",
    "MEMBER_WEIGHTS",
    "PHONE_SHARE",
    "PLANS",
    "REFERENCE_DAY",
    "SURNAMES",
    "TAG_RATES",
    "TOWN_CELLS",
    "TOWN_NAMES",
    "VILLAGE_FIRST",
    "VILLAGE_SECOND",
    "DemoPlan",
    "DemoResult",
    "GridPlan",
    "Rect",
    "build_demo",
    "centre",
    "city_rect",
    "cn_ordinal",
    "create_demo_users",
    "household_sizes",
    "id_number",
    "person_name",
    "polygon",
    "split_total",
    "tile",
    "town_rects",
    "unique_id_number",
    "village_bases",
]
