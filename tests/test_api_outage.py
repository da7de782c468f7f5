"""With the database unreachable the API still answers its JSON error shape, with 503 and Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create


@pytest.fixture
def database_down(tmp_path: Path) -> Iterator[None]:
    """The default connection swapped for a real one of the same backend pointed where no database is
    (a missing file on SQLite, a closed port on PostgreSQL); the test's own connection is put back after."""
    original = connections["default"]
    settings_dict = dict(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "no-such-folder" / "wangge.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = broken
    try:
        yield
    finally:
        broken.close()
        connections["default"] = original


@pytest.fixture
def token(personas: Any) -> str:
    _token, raw = api_token_create(user=personas[Role.CITY_ADMIN], name="outage")
    return raw


@pytest.mark.django_db
def test_the_api_answers_503_json_while_the_database_is_down(token: str, database_down: None) -> None:
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    for client, url in ((staff, "/api/v1/demands"), (Client(), "/api/v1/opengov/domains")):
        resp = client.get(url)
        assert resp.status_code == 503, (url, resp.status_code, resp.content[:300])
        assert resp["Content-Type"].startswith("application/json") and resp["Retry-After"] == "30"
        assert resp.json() == {
            "code": "unavailable",
            "message": "服务暂时不可用，请稍后再试",
            "message_en": "the service is unavailable for a moment; try again shortly",
            "field": None,
        }


@pytest.mark.django_db
def test_the_api_works_again_once_the_database_is_back(token: str) -> None:
    # The fixture above puts the test's connection back: the same request then succeeds.
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/demands").status_code == 200
