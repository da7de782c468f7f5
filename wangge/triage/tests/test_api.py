"""Triage API: suggestion for staff, duplicates and hot issues limited to the caller's scope."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands.testing import make_demand
from wangge.triage import services


def client_for(user: Any) -> Client:
    _, raw = api_token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(c: Client, path: str, body: dict[str, Any]) -> Any:
    return c.post(path, data=json.dumps(body), content_type="application/json")


def test_suggest_needs_staff_and_answers_with_the_rule(
    personas: Any, categories: dict[str, Any], no_default_rules: None
) -> None:
    services.keyword_rule_create(pattern="路灯 不亮", category_code="0102")
    assert Client().post("/api/v1/triage/suggest", data="{}", content_type="application/json").status_code == 401
    r = post(client_for(personas[Role.GRID_LEADER]), "/api/v1/triage/suggest", {"title": "路灯不亮"})
    assert r.status_code == 200
    assert r.json()["category_code"] == "0102" and r.json()["explanation"] == "命中关键词：路灯、不亮"
    empty = post(client_for(personas[Role.GRID_LEADER]), "/api/v1/triage/suggest", {"title": "孩子入学"})
    assert empty.json()["category_code"] is None and empty.json()["source"] is None


def test_duplicates_only_inside_the_callers_scope(tree: Any, personas: Any) -> None:
    mine = make_demand(grid=tree.grid, title="金沙社区路灯不亮", description="三号楼前路灯坏了")
    sibling = make_demand(grid=tree.sibling_grid, title="金沙社区三号楼路灯坏了", description="路灯不亮")
    body = {"title": "三号楼路灯不亮", "description": "路灯坏了", "area_id": tree.grid.pk}

    grid_ids = [
        d["demand_id"] for d in post(client_for(personas[Role.GRID_LEADER]), "/api/v1/triage/duplicates", body).json()
    ]
    assert grid_ids == [mine.pk]  # the sibling grid's demand is outside a grid leader's scope
    village = post(client_for(personas[Role.VILLAGE]), "/api/v1/triage/duplicates", body).json()
    assert {d["demand_id"] for d in village} == {mine.pk, sibling.pk}
    assert all(d["reason"] for d in village)
    assert all(d["distance_m"] is None for d in village)  # no point given, none known
    outsider = post(client_for(personas["outsider"]), "/api/v1/triage/duplicates", body)
    assert outsider.status_code == 404


def test_hot_issues_of_the_week_in_scope(tree: Any, personas: Any) -> None:
    for i, t in enumerate(["荷花小区路灯不亮好几天了", "荷花小区的路灯坏了晚上不亮", "荷花小区路灯晚上不亮请维修"]):
        make_demand(grid=tree.grid, title=t, description=t, reporter_phone=f"1390000{i:04d}")
    for i, t in enumerate(["北正社区垃圾没人清运", "北正社区垃圾堆积没人清运", "北正社区垃圾清运不及时"]):
        make_demand(grid=tree.other_grid, title=t, description=t, reporter_phone=f"1390001{i:04d}")

    town = client_for(personas[Role.TOWN]).get("/api/v1/triage/hot", {"days": 7}).json()
    assert len(town) == 1 and "路灯" in town[0]["name"] and town[0]["size"] == 3
    city = client_for(personas[Role.CITY_ADMIN]).get("/api/v1/triage/hot", {"days": 7}).json()
    assert len(city) == 2
    outsider = client_for(personas["outsider"]).get("/api/v1/triage/hot", {"days": 7}).json()
    assert len(outsider) == 1 and "垃圾" in outsider[0]["name"]
    bad = client_for(personas[Role.TOWN]).get("/api/v1/triage/hot", {"days": 0})
    assert bad.status_code == 400 and bad.json()["field"] == "days"
