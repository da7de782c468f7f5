"""督办/催办 (urging), 协办 (co-handling) and 网格直派 (direct dispatch from the grid), through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands import permissions, services
from wangge.demands.models import Category, Demand, DemandAssist, DemandEvent, State
from wangge.demands.testing import make_category, make_demand
from wangge.notifications.models import OutboxMessage
from wangge.registry.testing import make_tree, make_user

pytestmark = pytest.mark.django_db


def _climb(demand: Demand, actors: list[Any]) -> Demand:
    for actor in actors:
        demand = services.demand_escalate(demand=demand, actor=actor, reason="本级无法解决")
    return demand


def _at_village(tree: Any, personas: Any, **kw: Any) -> Demand:
    return _climb(make_demand(grid=tree.grid, **kw), [personas[Role.GRID_LEADER], personas[Role.BRANCH]])


# --- urging -------------------------------------------------------------------------------------


def test_every_level_above_an_area_holder_may_urge_and_nobody_else(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    may = {who for who, user in personas.items() if permissions.can_urge(demand=demand, user=user)}
    # The holder itself, departments, auditors and outsiders do not urge.
    assert may == {Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN}
    village_held = _at_village(tree, personas)
    may = {who for who, user in personas.items() if permissions.can_urge(demand=village_held, user=user)}
    assert may == {Role.TOWN, Role.CITY_ADMIN}


def test_a_department_is_urged_by_the_level_that_dispatched_it_and_those_above(tree: Any, personas: Any) -> None:
    demand = services.demand_dispatch(
        demand=_at_village(tree, personas), actor=personas[Role.VILLAGE], department=tree.department
    )
    may = {who for who, user in personas.items() if permissions.can_urge(demand=demand, user=user)}
    assert may == {Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN}


def test_an_urge_counts_tells_the_holder_and_moves_nothing(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    before = OutboxMessage.objects.filter(kind="demand.urged").count()
    urged = services.demand_urge(demand=demand, actor=personas[Role.TOWN], note="群众反映强烈，请今天处理")
    assert (urged.urges, urged.version, urged.state) == (1, demand.version, demand.state)
    event = DemandEvent.objects.get(demand=demand, action="urge")
    assert event.actor == personas[Role.TOWN] and not event.is_public and "群众反映强烈" in event.note
    pushed = OutboxMessage.objects.filter(kind="demand.urged")
    assert pushed.count() == before + 1
    message = pushed.get()
    assert message.recipient == f"user:{personas[Role.GRID_LEADER].pk}"
    assert demand.code in message.body and "集里街道" in message.body


def test_the_holder_and_people_outside_may_not_urge(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    for who in (Role.GRID_LEADER, Role.DEPARTMENT, Role.AUDITOR, "outsider"):
        with pytest.raises(PermissionDenied):
            services.demand_urge(demand=demand, actor=personas[who])
    assert Demand.objects.get(pk=demand.pk).urges == 0


def test_the_same_level_waits_before_urging_again_another_level_does_not(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    start = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)  # a Wednesday, 17:00 in Liuyang
    with time_machine.travel(start, tick=False):
        services.demand_urge(demand=demand, actor=personas[Role.TOWN])
        with pytest.raises(Conflict) as refused:
            services.demand_urge(demand=demand, actor=personas[Role.TOWN])
        assert "2026-03-05 12:00" in refused.value.zh  # 4 working hours: 17:00-17:30, then 08:30-12:00
        services.demand_urge(demand=demand, actor=personas[Role.VILLAGE])  # another level, its own turn
    with time_machine.travel(start + dt.timedelta(hours=19), tick=False):  # 12:00 the next day
        services.demand_urge(demand=demand, actor=personas[Role.TOWN])
    assert Demand.objects.get(pk=demand.pk).urges == 3


def test_a_suspended_or_finished_demand_is_not_urged(tree: Any, personas: Any) -> None:
    suspended = make_demand(grid=tree.grid)
    Demand.objects.filter(pk=suspended.pk).update(state=State.SUSPENDED)  # the suspension service is elsewhere
    with pytest.raises(Conflict) as refused:
        services.demand_urge(demand=suspended, actor=personas[Role.TOWN])
    assert "挂起" in refused.value.zh or "暂停" in refused.value.zh, refused.value.zh
    resolved = services.demand_resolve(
        demand=make_demand(grid=tree.grid), actor=personas[Role.GRID_LEADER], result="已修好"
    )
    with pytest.raises(Conflict):
        services.demand_urge(demand=resolved, actor=personas[Role.TOWN])


# --- co-handling --------------------------------------------------------------------------------


def test_the_holder_adds_an_assistant_who_sees_but_does_not_hold(tree: Any, personas: Any) -> None:
    demand = _at_village(tree, personas)
    dept = personas[Role.DEPARTMENT]
    assert not permissions.can_see(demand=demand, user=dept)
    assist = services.demand_assist_add(
        demand=demand, actor=personas[Role.VILLAGE], department=tree.department, task="核实线路产权"
    )
    assert (assist.department, assist.task, assist.replied_at) == (tree.department, "核实线路产权", None)
    assert permissions.can_see(demand=demand, user=dept)
    assert Demand.objects.filter(permissions.visible_q(dept), pk=demand.pk).count() == 1
    assert not permissions.can_hold(demand=demand, user=dept)
    assert DemandAssist.objects.filter(permissions.assisting_q(dept)).get() == assist
    told = OutboxMessage.objects.get(kind="demand.assist")
    assert told.recipient == f"user:{dept.pk}" and "核实线路产权" in told.body
    event = DemandEvent.objects.get(demand=demand, action="assist")
    assert not event.is_public and tree.department.name in event.note


def test_who_may_add_an_assistant_and_which(tree: Any, personas: Any) -> None:
    at_grid = make_demand(grid=tree.grid)
    with pytest.raises(Conflict):  # a grid leader dispatches nothing, so it leads no co-handling either
        services.demand_assist_add(
            demand=at_grid, actor=personas[Role.GRID_LEADER], department=tree.department, task="帮忙"
        )
    demand = _at_village(tree, personas)
    with pytest.raises(PermissionDenied):
        services.demand_assist_add(demand=demand, actor=personas[Role.TOWN], department=tree.department, task="帮忙")
    village = personas[Role.VILLAGE]
    with pytest.raises(ValidationFailed):
        services.demand_assist_add(demand=demand, actor=village, department=tree.department, task="  ")
    other_city = make_tree("430102").department  # another city's power company
    with pytest.raises(ValidationFailed):
        services.demand_assist_add(demand=demand, actor=village, department=other_city, task="帮忙")
    services.demand_assist_add(demand=demand, actor=village, department=tree.department, task="帮忙")
    with pytest.raises(ValidationFailed):
        services.demand_assist_add(demand=demand, actor=village, department=tree.department, task="再帮忙")
    dispatched = services.demand_dispatch(demand=_at_village(tree, personas), actor=village, department=tree.department)
    dispatched = services.demand_accept(demand=dispatched, actor=personas[Role.DEPARTMENT])
    with pytest.raises(ValidationFailed):  # the lead is not its own assistant
        services.demand_assist_add(
            demand=dispatched, actor=personas[Role.DEPARTMENT], department=tree.department, task="帮忙"
        )
    # A leading department adds another one.
    services.demand_assist_add(
        demand=dispatched, actor=personas[Role.DEPARTMENT], department=tree.other_department, task="房屋安全鉴定"
    )
    assert DemandAssist.objects.filter(demand=dispatched).count() == 1


def test_resolve_waits_for_every_reply_and_says_for_whom(tree: Any, personas: Any) -> None:
    village, dept = personas[Role.VILLAGE], personas[Role.DEPARTMENT]
    other_staff = make_user(role=Role.DEPARTMENT, departments=[tree.other_department], username="housing")
    demand = services.demand_accept(demand=_at_village(tree, personas), actor=village)
    first = services.demand_assist_add(demand=demand, actor=village, department=tree.department, task="断电配合")
    second = services.demand_assist_add(demand=demand, actor=village, department=tree.other_department, task="鉴定")
    demand = Demand.objects.get(pk=demand.pk)
    assert "resolve" not in services.demand_can(demand=demand, user=village)
    with pytest.raises(Conflict) as refused:
        services.demand_resolve(demand=demand, actor=village, result="已处理")
    assert "供电公司" in refused.value.zh and "住建局" in refused.value.zh
    assert "供电公司" in refused.value.en
    services.demand_assist_reply(assist=first, actor=dept, reply="已配合停电检修")
    with pytest.raises(Conflict) as still:
        services.demand_resolve(demand=demand, actor=village, result="已处理")
    assert "住建局" in still.value.zh and "供电公司" not in still.value.zh
    replied = services.demand_assist_reply(assist=second, actor=other_staff, reply="房屋安全")
    assert replied.replied_by == other_staff and replied.reply == "房屋安全"
    assert OutboxMessage.objects.filter(kind="demand.assist_reply", recipient=f"user:{village.pk}").count() == 2
    demand = Demand.objects.get(pk=demand.pk)
    assert "resolve" in services.demand_can(demand=demand, user=village)
    resolved = services.demand_resolve(demand=demand, actor=village, result="已处理", version=demand.version)
    assert resolved.state == State.RESOLVED


def test_an_assistant_replies_once_and_only_its_staff_reply(tree: Any, personas: Any) -> None:
    demand = _at_village(tree, personas)
    assist = services.demand_assist_add(
        demand=demand, actor=personas[Role.VILLAGE], department=tree.department, task="配合"
    )
    for who in (Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN):
        with pytest.raises(PermissionDenied):
            services.demand_assist_reply(assist=assist, actor=personas[who], reply="好的")
    with pytest.raises(ValidationFailed):
        services.demand_assist_reply(assist=assist, actor=personas[Role.DEPARTMENT], reply="")
    services.demand_assist_reply(assist=assist, actor=personas[Role.DEPARTMENT], reply="已配合")
    with pytest.raises(Conflict):
        services.demand_assist_reply(assist=assist, actor=personas[Role.DEPARTMENT], reply="再次回复")
    assert DemandEvent.objects.filter(demand=demand, action="assist_reply").count() == 1
    assert Demand.objects.get(pk=demand.pk).version == Demand.objects.get(pk=demand.pk).version


# --- direct dispatch from the grid ----------------------------------------------------------------


def test_the_default_catalogue_marks_utilities_and_safety_hazards() -> None:
    grid_dispatch = set(Category.objects.filter(grid_may_dispatch=True).values_list("code", flat=True))
    assert {"0201", "0202", "0203", "1201"} <= grid_dispatch and "0102" not in grid_dispatch
    verify = set(Category.objects.filter(needs_verification=True).values_list("code", flat=True))
    assert {"1201", "1202", "1203"} <= verify and "0202" not in verify


def test_a_grid_leader_dispatches_a_power_fault_straight_to_the_power_company(tree: Any, personas: Any) -> None:
    leader, dept = personas[Role.GRID_LEADER], personas[Role.DEPARTMENT]
    pole = make_category(grid_may_dispatch=True)
    demand = make_demand(grid=tree.grid, category=pole.code, title="电线杆倾斜")
    assert "dispatch" in services.demand_can(demand=demand, user=leader)
    demand = services.demand_dispatch(demand=demand, actor=leader, department=tree.department, note="请抢修")
    assert (demand.state, demand.holder_department, demand.holder_area) == (State.ESCALATED, tree.department, tree.grid)
    assert permissions.can_see(demand=demand, user=leader) and permissions.can_urge(demand=demand, user=leader)
    demand = services.demand_accept(demand=demand, actor=dept)
    demand = services.demand_resolve(demand=demand, actor=dept, result="已更换电杆，恢复供电")
    assert demand.state == State.RESOLVED


def test_a_grid_leader_may_not_dispatch_another_category(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = make_demand(grid=tree.grid, category=make_category().code)
    assert "dispatch" not in services.demand_can(demand=demand, user=leader)
    with pytest.raises(Conflict):
        services.demand_dispatch(demand=demand, actor=leader, department=tree.department)
    assert Demand.objects.get(pk=demand.pk).holder_department_id is None


def test_the_department_returns_or_refuses_a_direct_dispatch_to_the_grid(tree: Any, personas: Any) -> None:
    leader, dept = personas[Role.GRID_LEADER], personas[Role.DEPARTMENT]
    code = make_category(grid_may_dispatch=True).code
    sent = services.demand_dispatch(
        demand=make_demand(grid=tree.grid, category=code), actor=leader, department=tree.department
    )
    returned = services.demand_return(demand=sent, actor=dept, to_area=None, instructions="属于用户产权，请协调业主")
    assert (returned.state, returned.holder_area, returned.holder_department) == (State.IN_PROGRESS, tree.grid, None)
    assert permissions.can_hold(demand=returned, user=leader)
    sent = services.demand_dispatch(
        demand=make_demand(grid=tree.grid, category=code), actor=leader, department=tree.department
    )
    refused = services.demand_reject(demand=sent, actor=dept, reason="非供电设施")
    assert (refused.state, refused.holder_area, refused.holder_department) == (State.ESCALATED, tree.grid, None)
    assert "accept" in services.demand_can(demand=refused, user=leader)
