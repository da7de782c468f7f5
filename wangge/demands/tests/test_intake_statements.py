"""Statements per intake (docs/architecture.md: at most 8), counted on the web form and on the API.

Each intake is one transaction; inside a test it is a savepoint, so SAVEPOINT/RELEASE stand for the
BEGIN/COMMIT a server sends and are not counted, but there must be exactly one pair (no inner savepoint).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.core import ratelimit
from wangge.core.tests.test_ratelimit import TEST_REDIS_URL
from wangge.demands.models import Demand
from wangge.demands.tests.test_views import report_data

pytestmark = pytest.mark.django_db

BUDGET = 8


def _statements(captured: CaptureQueriesContext) -> list[str]:
    sqls = [q["sql"] for q in captured.captured_queries]
    savepoints = [s for s in sqls if s.startswith("SAVEPOINT")]
    assert len(savepoints) == 1, "\n".join(s[:150] for s in sqls)  # the intake's own transaction, nothing nested
    return [s for s in sqls if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.fixture
def redis_limits(settings: Any) -> Iterator[None]:
    prefix = f"wangge-test:{uuid.uuid4().hex[:12]}:"
    settings.WANGGE_RATELIMIT_REDIS_URL = TEST_REDIS_URL
    settings.WANGGE_RATELIMIT_PREFIX = prefix
    yield
    client = ratelimit._redis_counter(TEST_REDIS_URL, prefix).client
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def _report(client: Client, tree: Any, **overrides: Any) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        resp = client.post(reverse("demands:report"), report_data(tree, **overrides))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    return _statements(captured)


def _warm(client: Client, tree: Any) -> None:
    """The first intake of a process and day also fills the process's caches (triage, holiday calendar)
    and makes the day's counter row: the count is of the intakes after it."""
    assert client.post(reverse("demands:report"), report_data(tree, add_anyway="1")).status_code == 302


def test_the_report_page_files_a_demand_in_at_most_eight_statements(tree: Any, redis_limits: None) -> None:
    client = Client()
    _warm(client, tree)
    statements = _report(client, tree, add_anyway="1", phone="13900000077")
    assert len(statements) <= BUDGET, "\n".join(statements)
    assert Demand.objects.count() == 2


def test_with_the_database_limiter_too(tree: Any, settings: Any) -> None:
    settings.WANGGE_RATELIMIT_REDIS_URL = ""
    client = Client()
    _warm(client, tree)
    statements = _report(client, tree, add_anyway="1", phone="13900000077")
    limiter = [s for s in statements if "core_ratecounter" in s]
    assert len(limiter) == 1, limiter  # both limits reserved by one upsert
    assert len(statements) <= BUDGET, "\n".join(statements)


def test_the_api_files_a_demand_in_at_most_eight_statements_after_authentication(tree: Any, personas: Any) -> None:
    _token, raw = api_token_create(user=personas[Role.GRID_LEADER], name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps(
        {
            "description": "楼道灯坏了",
            "title": "楼道灯",
            "grid": tree.grid.code,
            "reporter_phone": "13900001234",
            "category": "0102",
        }
    )

    def post(key: str) -> CaptureQueriesContext:
        with CaptureQueriesContext(connection) as captured:
            resp = client.post(
                "/api/v1/demands", body, content_type="application/json", headers={"Idempotency-Key": key}
            )
        assert resp.status_code == 201, resp.content
        return captured

    post("first")  # as _warm above; it also stamps the token's last use
    statements = _statements(post("second"))
    assert "accounts_apitoken" in statements[0]  # the bearer token, read by every API route
    assert len(statements[1:]) <= BUDGET, "\n".join(statements)
