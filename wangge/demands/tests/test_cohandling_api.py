"""The API routes of 督办 and 协办: the same services, the one error shape, the caller's scope."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.models import Demand
from wangge.demands.testing import make_demand
from wangge.demands.tests.test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas: Any) -> dict[str, Api]:
    return {name: Api(user) for name, user in personas.items()}


def test_urge_through_the_api(tree: Any, api: Any) -> None:
    demand = make_demand(grid=tree.grid)
    answer = api[Role.TOWN].post(f"/demands/{demand.pk}/urge", {"note": "请加快"})
    assert answer.status_code == 200 and answer.json()["id"] == demand.pk
    assert Demand.objects.get(pk=demand.pk).urges == 1
    again = api[Role.TOWN].post(f"/demands/{demand.pk}/urge", {})
    assert again.status_code == 409 and again.json()["code"] == "urged_recently" and again.json()["message_en"]
    assert api[Role.GRID_LEADER].post(f"/demands/{demand.pk}/urge", {}).status_code == 403
    assert api["outsider"].post(f"/demands/{demand.pk}/urge", {}).status_code == 404


def test_assists_through_the_api(tree: Any, personas: Any, api: Any) -> None:
    demand = make_demand(grid=tree.grid)
    for who in (Role.GRID_LEADER, Role.BRANCH):
        demand = services.demand_escalate(demand=demand, actor=personas[who], reason="本级无法解决")
    path = f"/demands/{demand.pk}/assists"
    missing = api[Role.VILLAGE].post(path, {"department_id": 999999, "task": "配合"})
    assert missing.status_code == 400 and missing.json()["field"] == "department_id"
    made = api[Role.VILLAGE].post(
        path, {"department_id": tree.department.pk, "task": "配合", "version": demand.version}
    )
    assert made.status_code == 201
    assist = made.json()
    assert (assist["department_name"], assist["task"], assist["replied_at"]) == ("供电公司", "配合", None)
    assert api[Role.TOWN].post(path, {"department_id": tree.other_department.pk, "task": "鉴定"}).status_code == 403
    listed = api[Role.DEPARTMENT].get(path)  # the assistant sees the demand now
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [assist["id"]]
    reply_path = f"{path}/{assist['id']}/reply"
    assert api[Role.VILLAGE].post(reply_path, {"reply": "代答"}).status_code == 403
    replied = api[Role.DEPARTMENT].post(reply_path, {"reply": "已配合"})
    assert replied.status_code == 200 and replied.json()["reply"] == "已配合" and replied.json()["replied_at"]
    assert api[Role.DEPARTMENT].post(reply_path, {"reply": "再答"}).status_code == 409
    assert api["outsider"].get(path).status_code == 404
