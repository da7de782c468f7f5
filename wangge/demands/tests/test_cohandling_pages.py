"""督办 and 协办 on the staff pages (Django's test client): who sees which form, what a post does."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.models import Demand, DemandAssist
from wangge.demands.testing import make_category, make_demand

pytestmark = pytest.mark.django_db


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _at_village(tree: Any, personas: Any) -> Demand:
    demand = make_demand(grid=tree.grid)
    for who in (Role.GRID_LEADER, Role.BRANCH):
        demand = services.demand_escalate(demand=demand, actor=personas[who], reason="本级无法解决")
    return demand


def test_the_level_above_urges_from_the_demand_page(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    detail = reverse("demands:detail", args=[demand.pk])
    town = _as(personas[Role.TOWN])
    assert 'data-testid="urge"' in town.get(detail).content.decode()
    holder_page = _as(personas[Role.GRID_LEADER]).get(detail).content.decode()
    assert 'data-testid="urge"' not in holder_page
    response = town.post(reverse("demands:urge", args=[demand.pk]), {"note": "请今天处理"}, follow=True)
    assert response.status_code == 200 and Demand.objects.get(pk=demand.pk).urges == 1
    page = response.content.decode()
    assert 'data-testid="urges" data-count="1"' in page and 'data-testid="urge-wait"' in page
    again = town.post(reverse("demands:urge", args=[demand.pk]), {"note": ""}, follow=True)
    assert "本级刚督办过该诉求" in again.content.decode()  # the spam guard, in Chinese first
    assert Demand.objects.get(pk=demand.pk).urges == 1


def test_the_holder_may_not_urge_itself_and_an_outsider_finds_nothing(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    url = reverse("demands:urge", args=[demand.pk])
    assert _as(personas[Role.GRID_LEADER]).post(url, {"note": ""}).status_code == 403
    assert _as(personas["outsider"]).post(url, {"note": ""}).status_code == 404
    assert _as(personas[Role.TOWN]).get(url).status_code == 405
    assert Demand.objects.get(pk=demand.pk).urges == 0


def test_co_handling_on_the_pages_from_adding_to_resolving(tree: Any, personas: Any) -> None:
    demand = services.demand_accept(demand=_at_village(tree, personas), actor=personas[Role.VILLAGE])
    detail = reverse("demands:detail", args=[demand.pk])
    village, dept = _as(personas[Role.VILLAGE]), _as(personas[Role.DEPARTMENT])
    assert 'data-testid="assist-add"' in village.get(detail).content.decode()
    assert dept.get(detail).status_code == 404  # not assisting yet: outside its scope
    added = village.post(
        reverse("demands:assist_add", args=[demand.pk]),
        {"department": tree.department.pk, "task": "配合停电检修", "version": demand.version},
        follow=True,
    )
    assert added.status_code == 200
    assist = DemandAssist.objects.get(demand=demand)
    page = added.content.decode()
    assert 'data-testid="resolve-waits"' in page and "供电公司" in page
    assert 'data-testid="move-resolve"' not in page  # the resolve form is gone, and the panel says why
    # The assisting department: its landing count, its task list, the demand page with the reply form.
    home = dept.get(reverse("core:home")).content.decode()
    assert 'data-testid="assist-tasks-count" data-count="1"' in home
    tasks = dept.get(reverse("demands:assist_tasks")).content.decode()
    assert f'data-code="{demand.code}"' in tasks
    dept_page = dept.get(detail).content.decode()
    assert 'data-testid="assist-reply-form"' in dept_page and 'data-testid="moves"' in dept_page
    assert 'data-testid="move-resolve"' not in dept_page  # it sees, it does not hold
    # Someone else's reply is refused; an empty one comes back with the message.
    assert village.post(reverse("demands:assist_reply", args=[assist.pk]), {"reply": "代答"}).status_code == 403
    empty = dept.post(reverse("demands:assist_reply", args=[assist.pk]), {"reply": ""}, follow=True)
    assert "请填写协办回复" in empty.content.decode()
    replied = dept.post(reverse("demands:assist_reply", args=[assist.pk]), {"reply": "已配合"}, follow=True)
    assert replied.status_code == 200 and DemandAssist.objects.get(pk=assist.pk).reply == "已配合"
    assert f'data-code="{demand.code}"' not in dept.get(reverse("demands:assist_tasks")).content.decode()
    page = village.get(detail).content.decode()
    assert 'data-testid="move-resolve"' in page and 'data-testid="resolve-waits"' not in page


def test_a_refused_assistant_comes_back_with_the_message(tree: Any, personas: Any) -> None:
    demand = _at_village(tree, personas)
    village = _as(personas[Role.VILLAGE])
    url = reverse("demands:assist_add", args=[demand.pk])
    village.post(url, {"department": tree.department.pk, "task": "配合", "version": demand.version})
    fresh = Demand.objects.get(pk=demand.pk)
    again = village.post(
        url, {"department": tree.department.pk, "task": "再配合", "version": fresh.version}, follow=True
    )
    assert "不能选择该部门" in again.content.decode()  # no longer offered: already assisting
    stale = village.post(
        url, {"department": tree.other_department.pk, "task": "鉴定", "version": demand.version}, follow=True
    )
    assert "reload" in stale.content.decode()
    assert DemandAssist.objects.filter(demand=demand).count() == 1


def test_a_grid_leader_dispatches_from_the_page_when_the_category_allows(tree: Any, personas: Any) -> None:
    leader = _as(personas[Role.GRID_LEADER])
    allowed = make_demand(grid=tree.grid, category=make_category(grid_may_dispatch=True).code)
    page = leader.get(reverse("demands:detail", args=[allowed.pk])).content.decode()
    assert 'data-testid="move-dispatch"' in page and tree.department.name in page
    response = leader.post(
        reverse("demands:move", args=[allowed.pk, "dispatch"]),
        {"dispatch-version": allowed.version, "dispatch-department": tree.department.pk, "dispatch-note": "电杆倾斜"},
    )
    assert response.status_code == 302
    assert Demand.objects.get(pk=allowed.pk).holder_department == tree.department
    other = make_demand(grid=tree.grid, category=make_category().code)
    assert 'data-testid="move-dispatch"' not in leader.get(reverse("demands:detail", args=[other.pk])).content.decode()
    refused = leader.post(
        reverse("demands:move", args=[other.pk, "dispatch"]),
        {"dispatch-version": other.version, "dispatch-department": tree.department.pk},
    )
    assert refused.status_code == 403 and Demand.objects.get(pk=other.pk).holder_department_id is None
