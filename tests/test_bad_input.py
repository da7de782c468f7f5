"""Bad input gets a 400 that names the field, never a 500 (issue 15, item 7).

A NUL character in any text (PostgreSQL refuses it), an impossible date in Open311 (month 13) and a
huge `offset` each answered 500. These run on SQLite and on PostgreSQL (CI's second pass).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.core.api import IdCursorPagination
from wangge.demands.models import Demand

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(personas: Any) -> Client:
    _token, raw = api_token_create(user=personas[Role.GRID_LEADER], name="bad input")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_a_nul_in_a_json_text_is_refused_with_its_field(tree: Any, api: Client) -> None:
    body = {
        "description": "楼道灯\u0000坏了",
        "title": "楼道灯",
        "grid": tree.grid.code,
        "reporter_phone": "13900001234",
    }
    resp = api.post("/api/v1/demands", json.dumps(body), content_type="application/json")
    assert resp.status_code == 400, resp.content
    data = resp.json()
    assert data["field"] == "description" and data["code"] == "nul_character"
    assert "NUL" in data["message_en"] and "NUL" in data["message"]  # one msgid, rendered in both languages
    assert not Demand.objects.exists()


def test_a_nul_in_a_query_parameter_or_the_path_is_refused(tree: Any, api: Client) -> None:
    resp = api.get("/api/v1/demands", {"q": "灯\x00"})
    assert resp.status_code == 400 and resp.json()["field"] == "q"
    resp = Client().get("/open311/v2/requests/LY-1%00.json")
    assert resp.status_code == 400 and resp.json()[0]["code"] == 400 and "path" in resp.json()[0]["description"]


def test_a_nul_in_a_page_form_is_refused_before_the_view(tree: Any) -> None:
    resp = Client().post("/report/", {"description": "路灯\x00不亮", "phone": "13900001234", "grid": tree.grid.code})
    assert resp.status_code == 400
    assert 'data-testid="error"' in resp.content.decode() and "description" in resp.content.decode()
    assert not Demand.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["2024-13-01T00:00:00Z", "2024-02-30", "2024-02-31T10:00:00+08:00", "0001-01-01T00:00:00Z", "9999-12-31"],
)
def test_an_impossible_open311_date_is_a_400_naming_the_field(tree: Any, value: str) -> None:
    resp = Client().get("/open311/v2/requests.json", {"start_date": value})
    assert resp.status_code == 400, resp.content
    assert "start_date" in resp.json()[0]["description"]
    resp = Client().get("/open311/v2/servicerequestupdates.xml", {"end_date": value})
    assert resp.status_code == 400 and b"end_date" in resp.content


def test_a_huge_offset_or_cursor_is_a_400_or_an_empty_page(tree: Any, api: Client) -> None:
    resp = api.get("/api/v1/facilities", {"offset": 2**62})
    assert resp.status_code == 400 and resp.json()["field"] == "offset"
    assert api.get("/api/v1/facilities", {"offset": -1}).json()["field"] == "offset"
    assert api.get("/api/v1/facilities", {"offset": 5}).status_code == 200
    resp = api.get("/api/v1/demands", {"cursor": IdCursorPagination.encode(2**70)})
    assert resp.status_code in (200, 400), resp.content


@pytest.mark.parametrize("body", ['"AAA"', "42", "null", '["title"]'])
def test_a_body_that_is_not_a_json_object_is_refused(tree: Any, api: Client, body: str) -> None:
    # Ninja's Schema reads attributes: "AAA" once gave a suggestion for the title "Aaa" (str.title).
    resp = api.post("/api/v1/triage/suggest", body, content_type="application/json")
    assert resp.status_code == 422, resp.content
    assert "JSON object" in resp.json()["message_en"]
    resp = api.post("/api/v1/demands", body, content_type="application/json")
    assert resp.status_code == 422 and not Demand.objects.exists()
