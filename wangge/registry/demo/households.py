"""What one grid of the demo holds: its households, their people and the branch's leader."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from wangge.core.masking import encrypt, lookup_hash
from wangge.core.phones import demo_mobile
from wangge.registry.demo.people import person_name, unique_id_number
from wangge.registry.demo.plans import ID_SHARE, MEMBER_WEIGHTS, PHONE_SHARE, REFERENCE_DAY, TAG_RATES
from wangge.registry.demo.shapes import Rect
from wangge.registry.models import Area, Household, Person, tags_to_column
from wangge.registry.services import household_key


@dataclass(frozen=True)
class GridPlan:
    branch: Area
    number: int  # in its branch
    in_village: int  # numbered through the village: the name and the address group (组)
    rect: Rect
    size: int


def _rect_of(area: Area) -> Rect:
    assert area.boundary is not None  # the builder gives every area its shape
    ring = area.boundary["coordinates"][0]
    return (ring[0][0], ring[0][1], ring[2][0], ring[2][1])


def _leader(branch: Area, rng: random.Random, used_ids: set[str]) -> Person:
    """A grid leader is a party member of the grid's own branch."""
    ident = unique_id_number(rng, used_ids, min_age=28, max_age=68)
    return Person(
        name=person_name(rng),
        phone=demo_mobile(rng),
        id_number_enc=encrypt(ident),
        id_number_hash=lookup_hash(ident),
        is_party_member=True,
        party_joined_on=REFERENCE_DAY - dt.timedelta(days=rng.randint(3 * 365, 40 * 365)),
        branch=branch,
        area_path=branch.path,
    )


_MEMBERS, _MEMBER_W = zip(*MEMBER_WEIGHTS, strict=True)


def _households_for(
    grids: list[Area], groups: list[int], rng: random.Random, used_ids: set[str], *, batch: int
) -> None:
    """Households of a batch of grids, keyed exactly as the import and the services key them."""
    rows: list[Household] = []
    for grid, group in zip(grids, groups, strict=True):
        village = grid.parent.parent  # type: ignore[union-attr]
        town = village.parent  # type: ignore[union-attr]
        prefix = f"{town.name}{village.name}{group}组"  # type: ignore[union-attr]
        for i in range(grid.household_count):
            head = person_name(rng)
            address = f"{prefix}{i * 2 + 1}号"
            ident = unique_id_number(rng, used_ids) if rng.random() < ID_SHARE else ""
            id_hash = lookup_hash(ident)
            members = rng.choices(_MEMBERS, weights=_MEMBER_W)[0]
            tags = [tag for tag, rate in TAG_RATES if rng.random() < rate]
            if "elderly_alone" in tags:
                members = 1  # living alone, so no child lives there either
                tags = [t for t in tags if t != "left_behind_child"]
            elif "left_behind_child" in tags and members < 2:
                members = 2  # a grandparent and the child
            rows.append(
                Household(
                    grid=grid,
                    area_path=grid.path,
                    key=household_key(
                        village_code=village.code,  # type: ignore[union-attr]
                        address=address,
                        head_name=head,
                        id_hash=id_hash,
                    ),
                    address=address,
                    head_name=head,
                    head_id_number_enc=encrypt(ident),
                    head_id_number_hash=id_hash,
                    phone=demo_mobile(rng) if rng.random() < PHONE_SHARE else "",
                    members=members,
                    care_tags=tags_to_column(tags),
                )
            )
        if len(rows) >= batch:
            Household.objects.bulk_create(rows, batch_size=batch)
            rows = []
    if rows:
        Household.objects.bulk_create(rows, batch_size=batch)
