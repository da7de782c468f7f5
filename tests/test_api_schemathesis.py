"""schemathesis over the OpenAPI document of /api/v1/: no 5xx and no response that breaks its schema.

Runs in-process against the WSGI app with a city administrator's bearer token, a few examples per
route (derandomised, so a failure repeats), well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from wangge.accounts.models import Role

# Loaded eagerly: schemathesis's lazy loader (from_fixture) does not run under pytest 9. Building the
# document touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


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
        checks=[not_a_server_error, response_schema_conformance],
    )
    assert response.status_code != 401, "the token must authenticate every generated request"
