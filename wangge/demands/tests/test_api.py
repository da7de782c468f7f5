"""The demands API: Idempotency-Key (201 then 200), scoped reads, cursor pages, moves with 409 on a stale version."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands.models import Demand
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, user: Any) -> None:
        _token, raw = api_token_create(user=user, name="test")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get("/api/v1" + path, params)

    def post(self, path: str, body: dict[str, Any], **headers: Any) -> Any:
        return self.client.post("/api/v1" + path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def api(personas: Any) -> dict[str, Api]:
    return {name: Api(user) for name, user in personas.items()}


def body(grid: Any, **kw: Any) -> dict[str, Any]:
    data = {"description": "楼道灯坏了", "title": "楼道灯", "grid": grid.code, "reporter_phone": "13900001234"}
    data.update(kw)
    return data


def test_post_with_idempotency_key_201_then_200_with_the_first(tree: Any, api: Any) -> None:
    leader = api[Role.GRID_LEADER]
    first = leader.post("/demands", body(tree.grid), **{"Idempotency-Key": "abc-1"})
    assert first.status_code == 201, first.content
    again = leader.post("/demands", body(tree.grid, description="别的内容"), **{"Idempotency-Key": "abc-1"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["description"] == "楼道灯坏了"
    assert first.json()["code"].startswith("LY-") and first.json()["tracking_token"]
    assert first.json()["reporter_phone_masked"] == "139****1234"
    assert Demand.objects.count() == 1
    # The same key from another client is another demand (keys are per user).
    other = api[Role.BRANCH].post("/demands", body(tree.grid), **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_post_errors_have_the_one_shape(tree: Any, api: Any) -> None:
    leader = api[Role.GRID_LEADER]
    resp = leader.post("/demands", body(tree.grid, description=" "))
    assert resp.status_code == 400
    assert set(resp.json()) >= {"code", "message", "message_en", "field"} and resp.json()["field"] == "description"
    resp = leader.post("/demands", body(tree.grid, category="nope"))
    assert resp.status_code == 400 and resp.json()["field"] == "category"
    resp = leader.post("/demands", body(tree.other_grid))
    assert resp.status_code == 403
    resp = leader.post("/demands", {"title": "缺内容"})
    assert resp.status_code == 422 and resp.json()["field"] == "description"
    assert Demand.objects.count() == 0


def test_unauthenticated_is_401(tree: Any) -> None:
    resp = Client().get("/api/v1/demands")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


def test_list_is_scoped_filtered_and_paged_by_cursor(tree: Any, api: Any) -> None:
    inside = [make_demand(grid=tree.grid) for _ in range(5)]
    make_demand(grid=tree.other_grid)
    village = api[Role.VILLAGE]
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = village.get("/demands", **params).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted((d.pk for d in inside), reverse=True)
    assert village.get("/demands", state="resolved").json()["items"] == []
    assert len(village.get("/demands", q=inside[0].code).json()["items"]) == 1
    assert village.get("/demands", cursor="!!bad").status_code == 400


def test_the_residents_answer_to_is_it_solved_is_in_the_demand(tree: Any, api: Any) -> None:
    demand = make_demand(grid=tree.other_grid)
    assert api["outsider"].get(f"/demands/{demand.pk}").json()["rated_solved"] is None
    Demand.objects.filter(pk=demand.pk).update(rated_solved=True)
    assert api["outsider"].get(f"/demands/{demand.pk}").json()["rated_solved"] is True


def test_get_outside_scope_is_404(tree: Any, api: Any) -> None:
    outside = make_demand(grid=tree.other_grid)
    resp = api[Role.VILLAGE].get(f"/demands/{outside.pk}")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    assert api[Role.VILLAGE].get(f"/demands/{outside.pk}/events").status_code == 404
    assert api["outsider"].get(f"/demands/{outside.pk}").status_code == 200


def test_moves_with_version_and_409(tree: Any, api: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid)
    leader = api[Role.GRID_LEADER]
    resp = leader.post(f"/demands/{d.pk}/accept", {"version": 1})
    assert resp.status_code == 200 and resp.json()["state"] == "in_progress" and resp.json()["version"] == 2
    stale = leader.post(f"/demands/{d.pk}/escalate", {"version": 1, "reason": "上报"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict" and stale.json()["message_en"]
    resp = leader.post(f"/demands/{d.pk}/escalate", {"version": 2, "reason": "需要支部协调"})
    assert resp.status_code == 200 and resp.json()["holder_area_id"] == tree.branch.pk
    # Not the holder any more.
    assert leader.post(f"/demands/{d.pk}/resolve", {"result": "好了"}).status_code == 403
    branch = api[Role.BRANCH]
    branch.post(f"/demands/{d.pk}/accept", {})
    resp = branch.post(f"/demands/{d.pk}/escalate", {"reason": "村里处理"})
    village = api[Role.VILLAGE]
    resp = village.post(f"/demands/{d.pk}/dispatch", {"department_id": tree.department.pk, "note": "请处理"})
    assert resp.status_code == 200 and resp.json()["holder_kind"] == "department"
    dept = api[Role.DEPARTMENT]
    resp = dept.post(f"/demands/{d.pk}/return", {"instructions": "请村里先核实"})
    assert resp.status_code == 200 and resp.json()["holder_area_id"] == tree.village.pk
    resp = village.post(f"/demands/{d.pk}/return", {"to_area_id": tree.grid.pk, "instructions": "网格长上门"})
    assert resp.status_code == 200 and resp.json()["holder_area_id"] == tree.grid.pk
    resp = leader.post(f"/demands/{d.pk}/comment", {"body": "已约好时间", "visibility": "staff"})
    assert resp.status_code == 201
    resp = leader.post(f"/demands/{d.pk}/resolve", {"result": "已修好"})
    assert resp.status_code == 200 and resp.json()["state"] == "resolved"
    events = village.get(f"/demands/{d.pk}/events").json()
    assert [e["action"] for e in events][-3:] == ["return_", "comment", "resolve"]
    assert api[Role.AUDITOR].post(f"/demands/{d.pk}/comment", {"body": "看看"}).status_code == 403


def test_reassign_reject_and_merge(tree: Any, api: Any, personas: Any) -> None:
    first = make_demand(grid=tree.grid)
    dup = make_demand(grid=tree.grid)
    leader = api[Role.GRID_LEADER]
    resp = leader.post(f"/demands/{dup.pk}/merge", {"into_id": first.pk})
    assert resp.status_code == 200 and resp.json()["state"] == "merged" and resp.json()["merged_into_id"] == first.pk
    resp = leader.post(f"/demands/{first.pk}/reassign", {"to_user_id": personas[Role.BRANCH].pk})
    assert resp.status_code == 400 and resp.json()["field"] == "to_user"
    resp = leader.post(f"/demands/{first.pk}/reject", {"reason": ""})
    assert resp.status_code == 400
    resp = leader.post(f"/demands/{first.pk}/reject", {"reason": "不属于受理范围"})
    assert resp.status_code == 200 and resp.json()["state"] == "rejected"


def test_categories(tree: Any, api: Any) -> None:
    rows = api[Role.AUDITOR].get("/categories").json()
    codes = {r["code"] for r in rows}
    assert {"01", "0102", "12", "1201"} <= codes
    lamp = next(r for r in rows if r["code"] == "0102")
    assert lamp["parent_code"] == "01" and lamp["resolve_unit"] == "working_days"
