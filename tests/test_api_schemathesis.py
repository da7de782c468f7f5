"""schemathesis over the OpenAPI document of /api/v1/ with every built-in check (the CLI's --checks all),
and over a small OpenAPI description of the Open311 GeoReport v2 JSON routes: no 5xx anywhere.

Runs in-process against the WSGI app with a city administrator's bearer token, a few examples per
route (derandomised, so a failure repeats). CI runs the suite on SQLite and on PostgreSQL, so both
databases are fuzzed (a NUL byte is a 500 only on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from config.wsgi import application
from wangge.accounts.models import Role

# Loaded eagerly: schemathesis's lazy loader (from_fixture) does not run under pytest 9. Building the
# document touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# A schema says what is well formed, not which grid codes exist or which moves a state allows: a
# schema-valid request may still be refused by a rule, with the one error shape and a named field.
# Every built-in check, as the CLI's --checks all runs them.
ALL_CHECKS = CHECKS.get_all()
schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "400", "403", "404", "409"]

# Open311 publishes no OpenAPI document (GeoReport v2 predates it): this one describes its JSON reads
# and the request POST, enough for schemathesis to send dates, ids, codes and texts of every shape.
_ERRORS = {"description": "GeoReport error list", "content": {"application/json": {"schema": {"type": "array"}}}}
_TEXT = {"type": "string"}


def _open311_get(*params: str) -> dict[str, Any]:
    return {
        "get": {
            "parameters": [{"name": p, "in": "query", "required": False, "schema": _TEXT} for p in params],
            "responses": {"200": {"description": "ok"}, **{s: _ERRORS for s in ("400", "403", "404", "429")}},
        }
    }


OPEN311 = {
    "openapi": "3.0.3",
    "info": {"title": "Open311 GeoReport v2 (JSON)", "version": "2"},
    "paths": {
        "/open311/v2/services.json": _open311_get("jurisdiction_id"),
        "/open311/v2/requests.json": _open311_get(
            "start_date", "end_date", "status", "service_code", "service_request_id", "jurisdiction_id"
        ),
        "/open311/v2/servicerequestupdates.json": _open311_get("start_date", "end_date", "jurisdiction_id"),
        "/open311/v2/requests/{code}.json": {
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": _TEXT}],
            **_open311_get("jurisdiction_id"),
        },
        "/open311/v2/tokens/{token}.json": {
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": _TEXT}],
            **_open311_get("jurisdiction_id"),
        },
        "/open311/v2/services/{code}.json": {
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": _TEXT}],
            **_open311_get("jurisdiction_id"),
        },
    },
}
open311 = schemathesis.openapi.from_dict(OPEN311)
open311.app = application


@pytest.fixture
def token(tree: Any, personas: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    from wangge.accounts.services import api_token_create
    from wangge.demands.testing import make_demand

    settings.MEDIA_ROOT = tmp_path
    # Objects for generated ids to find: the first rows of the tables exist.
    make_demand(grid=tree.grid)
    make_demand(grid=tree.other_grid)
    _token, raw = api_token_create(user=personas[Role.CITY_ADMIN], name="schemathesis")
    # Requests go straight to the WSGI app, not through Django's test client, so the test's own
    # connection (inside its transaction) must not be closed at the end of each request — exactly
    # what the test client does too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield raw
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_has_no_server_errors_and_keeps_its_schemas(case: Any, token: str) -> None:
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=ALL_CHECKS,
    )
    assert response.status_code != 401, "the token must authenticate every generated request"


@open311.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_open311_has_no_server_errors(case: Any, token: str) -> None:
    response = case.call(app=application)
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
