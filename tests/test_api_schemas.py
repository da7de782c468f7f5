"""Every schema of the API has a name of its own, and request bodies name only known fields.

Two schemas with one name share one entry of the OpenAPI document: a route is then documented with
another app's shape (the one-stop items were shown as open-government items).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from ninja import Schema

from config.api import api
from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_no_two_schemas_of_the_project_share_a_name() -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("wangge."):
            by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not shared, shared


def test_each_route_is_documented_with_its_own_schema() -> None:
    doc = api.get_openapi_schema()
    components = doc["components"]["schemas"]

    def fields(path: str, method: str) -> set[str]:
        response = doc["paths"][f"/api/v1/{path}"][method]["responses"][200]["content"]["application/json"]["schema"]
        ref = (response.get("items") or response)["$ref"].rsplit("/", 1)[-1]
        return set(components[ref]["properties"])

    assert {"fee_fen", "materials", "handle_level"} <= fields("onestop/items", "get")
    assert {"versions", "domain_code", "next_due_at"} <= fields("opengov/items/{item_id}", "get")


@pytest.mark.django_db
def test_the_open_government_update_refuses_unknown_and_empty_bodies(tree: Any, personas: Any) -> None:
    from wangge.opengov.testing import domain

    _t, raw = api_token_create(user=personas[Role.TOWN], name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {
        "area_id": tree.village.pk,
        "domain_id": domain().pk,
        "title": "村务公开",
        "content": "内容",
        "responsible_unit": "村委会",
    }
    created = client.post("/api/v1/opengov/items", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/opengov/items/{created.json()['id']}/update"

    def post(data: Any) -> Any:
        return client.post(url, json.dumps(data), content_type="application/json")

    misspelt = post({"titel": "新标题"})
    assert misspelt.status_code == 422 and misspelt.json()["field"] == "titel", misspelt.content
    empty = post({})
    assert empty.status_code == 400 and empty.json()["message"] == "请至少填写一个要修改的字段"
    assert empty.json()["message_en"] == "name at least one field to change"
    assert post({"title": "新标题"}).json()["title"] == "新标题"
    extra_on_create = client.post(
        "/api/v1/opengov/items", json.dumps({**body, "state": "published"}), content_type="application/json"
    )
    assert extra_on_create.status_code == 422
