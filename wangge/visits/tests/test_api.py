"""The visits API: log a visit with opinions and a demand, list in scope, follow up, coverage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands.models import Demand
from wangge.registry.testing import make_household
from wangge.visits.models import FollowUp, Opinion, Visit
from wangge.visits.testing import make_visit

pytestmark = pytest.mark.django_db


def api(user: Any, **headers: Any) -> Client:
    _token, raw = api_token_create(user=user, name="app")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **headers)


def post(client: Client, path: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post("/api/v1" + path, json.dumps(body), content_type="application/json", **headers)


def test_log_a_visit_with_opinions_and_a_demand(personas: Any, tree: Any) -> None:
    household = make_household(grid=tree.grid)
    client = api(personas[Role.GRID_LEADER])
    body = {
        "household_id": household.pk,
        "how": "wechat",
        "notes": "微信视频问候",
        "opinions": [{"text": "希望开展防诈骗宣传", "category": "safety"}],
        "demand": {"description": "家门口路灯不亮", "category": "0101"},
    }
    response = post(client, "/visits", body, HTTP_IDEMPOTENCY_KEY="v-1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["how"] == "wechat" and data["opinions"][0]["category"] == "safety"
    assert data["demand_code"] == Demand.objects.get().code
    again = post(client, "/visits", body, HTTP_IDEMPOTENCY_KEY="v-1")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Visit.objects.count() == 1


def test_a_refused_demand_refuses_the_visit_in_the_one_error_shape(personas: Any, tree: Any) -> None:
    household = make_household(grid=tree.grid)
    body = {"household_id": household.pk, "opinions": [{"text": "好"}], "demand": {"description": ""}}
    response = post(api(personas[Role.GRID_LEADER]), "/visits", body)
    assert response.status_code == 400
    error = response.json()
    assert error["field"] == "demand.description" and error["message"] and error["message_en"]
    assert not Visit.objects.exists() and not Opinion.objects.exists() and not Demand.objects.exists()


def test_households_outside_the_scope_are_not_found(personas: Any, tree: Any) -> None:
    stranger = make_household(grid=tree.other_grid)
    response = post(api(personas[Role.GRID_LEADER]), "/visits", {"household_id": stranger.pk})
    assert response.status_code == 404 and not Visit.objects.exists()


def test_lists_and_follow_up_stay_in_scope(personas: Any, tree: Any) -> None:
    mine = make_visit(
        visitor=personas[Role.GRID_LEADER], household=make_household(grid=tree.grid), opinions=[{"text": "本镇"}]
    )
    make_visit(
        visitor=personas["outsider"], household=make_household(grid=tree.other_grid), opinions=[{"text": "外镇"}]
    )
    town = api(personas[Role.TOWN])
    visits = town.get("/api/v1/visits").json()["items"]
    assert [v["id"] for v in visits] == [mine.pk]
    opinions = town.get("/api/v1/opinions").json()["items"]
    assert [o["text"] for o in opinions] == ["本镇"]
    opinion = mine.opinions.get()
    follow = post(town, f"/opinions/{opinion.pk}/follow-up", {"state": "answered", "answer": "已纳入议事会讨论"})
    assert follow.status_code == 200 and follow.json()["state"] == FollowUp.ANSWERED
    late = post(town, f"/opinions/{opinion.pk}/follow-up", {"state": "adopted"})
    assert late.status_code == 409
    outsider = post(api(personas["outsider"]), f"/opinions/{opinion.pk}/follow-up", {"state": "adopted"})
    assert outsider.status_code == 404
    assert api(personas["outsider"]).get(f"/api/v1/visits/{mine.pk}").status_code == 404


def test_pages_of_visits_follow_the_cursor(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    made = [make_visit(visitor=leader, household=make_household(grid=tree.grid)).pk for _ in range(5)]
    client = api(leader)
    first = client.get("/api/v1/visits?limit=3").json()
    second = client.get(f"/api/v1/visits?limit=3&cursor={first['next_cursor']}").json()
    assert [v["id"] for v in first["items"] + second["items"]] == sorted(made, reverse=True)
    assert second["next_cursor"] is None


def test_coverage_over_the_api(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    make_visit(visitor=leader, household=make_household(grid=tree.grid))
    make_household(grid=tree.grid)
    make_household(grid=tree.sibling_grid)
    data = api(personas[Role.VILLAGE]).get(f"/api/v1/visits/coverage?area_id={tree.branch.pk}").json()
    rows = {r["area_name"]: (r["households"], r["visited_this_month"], r["never_visited"]) for r in data["rows"]}
    assert rows == {tree.grid.name: (2, 1, 1), tree.sibling_grid.name: (1, 0, 1)}
    assert data["total"]["households"] == 3 and data["total"]["percent"] == 33
