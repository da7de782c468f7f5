"""The rule of who holds and who sees a demand, in its three forms, agrees with itself.

For every persona (one per role, and an outsider) and a demand held at every level: the queryset
filter (`held_q`, `visible_q`) selects exactly the demands the predicate (`can_hold`, `can_see`)
accepts, and the candidate holders of each demand are exactly the personas the predicate accepts.
"""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.demands import permissions, services
from wangge.demands.models import Demand
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.django_db


def _climb(demand: Demand, actors: list[Any]) -> Demand:
    for actor in actors:
        demand = services.demand_escalate(demand=demand, actor=actor, reason="本级无法解决")
    return demand


@pytest.fixture
def held(tree: Any, personas: Any) -> dict[str, Demand]:
    """One demand held at each level of the personas' chain, and some held elsewhere."""
    chain = [personas[Role.GRID_LEADER], personas[Role.BRANCH], personas[Role.VILLAGE], personas[Role.TOWN]]
    demands = {"grid": make_demand(grid=tree.grid), "sibling_grid": make_demand(grid=tree.sibling_grid)}
    for n, level in enumerate(["branch", "village", "town", "city"], start=1):
        demands[level] = _climb(make_demand(grid=tree.grid), chain[:n])
    village = personas[Role.VILLAGE]
    demands["department"] = services.demand_dispatch(
        demand=_climb(make_demand(grid=tree.grid), chain[:2]), actor=village, department=tree.department
    )
    demands["other_department"] = services.demand_dispatch(
        demand=_climb(make_demand(grid=tree.grid), chain[:2]), actor=village, department=tree.other_department
    )
    # Returned by the department: the village holds it, and the department still sees it.
    returned = services.demand_dispatch(
        demand=_climb(make_demand(grid=tree.grid), chain[:2]), actor=village, department=tree.department
    )
    demands["returned"] = services.demand_return(
        demand=returned, actor=personas[Role.DEPARTMENT], to_area=None, instructions="不属于本部门"
    )
    demands["other_grid"] = make_demand(grid=tree.other_grid)
    demands["other_town"] = make_demand(area=tree.other_town)
    # 协办: the other town leads it, the department assists: it sees the demand and does not hold it.
    assisted = make_demand(area=tree.other_town)
    services.demand_assist_add(demand=assisted, actor=personas["outsider"], department=tree.department, task="配合")
    demands["assisted"] = assisted
    return {name: Demand.objects.get(pk=d.pk) for name, d in demands.items()}


def test_the_chain_really_climbs(held: dict[str, Demand], tree: Any) -> None:
    levels = {name: (d.holder_kind, d.holder_area_id) for name, d in held.items()}
    assert levels["grid"] == ("grid", tree.grid.pk)
    assert levels["branch"] == ("branch", tree.branch.pk)
    assert levels["village"] == ("village", tree.village.pk)
    assert levels["town"] == ("town", tree.town.pk)
    assert levels["city"] == ("city", tree.city.pk)
    assert levels["department"][0] == "department" and levels["returned"] == ("village", tree.village.pk)


def test_held_q_and_can_hold_agree_for_every_persona(held: dict[str, Demand], personas: Any) -> None:
    everything = list(held.values())
    for who, user in personas.items():
        by_query = set(Demand.objects.filter(permissions.held_q(user)))
        by_predicate = {d for d in everything if permissions.can_hold(demand=d, user=user)}
        assert by_query == by_predicate, who


def test_visible_q_and_can_see_agree_for_every_persona(held: dict[str, Demand], personas: Any) -> None:
    everything = list(held.values())
    for who, user in personas.items():
        by_query = set(Demand.objects.filter(permissions.visible_q(user)))
        by_predicate = {d for d in everything if permissions.can_see(demand=d, user=user)}
        assert by_query == by_predicate, who


def test_each_level_is_held_by_the_persona_of_that_level(held: dict[str, Demand], personas: Any) -> None:
    holders = {
        name: {who for who, user in personas.items() if permissions.can_hold(demand=d, user=user)}
        for name, d in held.items()
    }
    assert holders == {
        "grid": {Role.GRID_LEADER},
        "sibling_grid": set(),  # nobody of the personas leads the sibling grid
        "branch": {Role.BRANCH},
        "village": {Role.VILLAGE},
        "town": {Role.TOWN},
        "city": {Role.CITY_ADMIN},  # not the auditor: auditors read, never hold
        "department": {Role.DEPARTMENT},
        "other_department": set(),
        "returned": {Role.VILLAGE},
        "other_grid": set(),
        "other_town": {"outsider"},
        "assisted": {"outsider"},
    }


def test_what_each_persona_sees(held: dict[str, Demand], personas: Any) -> None:
    def seen(who: str) -> set[str]:
        return {name for name, d in held.items() if permissions.can_see(demand=d, user=personas[who])}

    inside = {"grid", "sibling_grid", "branch", "village", "town", "city", "department", "other_department", "returned"}
    # A demand stays visible where it belongs after it climbs away; the sibling grid's is not the leader's.
    assert seen(Role.GRID_LEADER) == inside - {"sibling_grid"}
    assert seen(Role.TOWN) == inside
    assert seen(Role.AUDITOR) == seen(Role.CITY_ADMIN) == set(held)
    assert seen(Role.DEPARTMENT) == {"department", "returned", "assisted"}  # held, sent to it once, or assisted
    assert seen("outsider") == {"other_grid", "other_town", "assisted"}


def test_candidates_are_exactly_who_may_hold(held: dict[str, Demand], personas: Any) -> None:
    persona_ids = {user.pk for user in personas.values()}
    for name, demand in held.items():
        candidates = set(permissions.demand_holder_candidates(demand=demand).values_list("pk", flat=True))
        may_hold = {user.pk for user in personas.values() if permissions.can_hold(demand=demand, user=user)}
        assert candidates & persona_ids == may_hold, name


def test_demand_may_gives_the_answer_demand_can_gives_for_each_holder_move(tree: Any, personas: Any) -> None:
    """The console asks `demand_may` of every row; it must agree with `demand_can`, move by move."""
    from wangge.demands.transitions import STAFF_MOVES

    waiting = make_demand(grid=tree.grid)
    accepted = make_demand(grid=tree.grid)
    services.demand_accept(demand=accepted, actor=personas[Role.GRID_LEADER])
    escalated = make_demand(grid=tree.grid)
    services.demand_escalate(demand=escalated, actor=personas[Role.GRID_LEADER], reason="需要上级协调")
    elsewhere = make_demand(grid=tree.other_grid)
    for demand in (waiting, accepted, escalated, elsewhere):
        demand = Demand.objects.get(pk=demand.pk)
        for user in personas.values():
            can = services.demand_can(demand=demand, user=user)
            for move in STAFF_MOVES:
                assert services.demand_may(demand=demand, user=user, move=move) == (move.value in can), (
                    demand.state,
                    getattr(user, "role", user),
                    move,
                )
