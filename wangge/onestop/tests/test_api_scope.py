"""The one-stop API walked by every persona with a bearer token: nothing outside the scope is read or moved."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.onestop.models import AppState, TaskState
from wangge.onestop.testing import make_application

INSIDE, OUTSIDE = "内圈标记", "外圈标记"
GETS = [
    "/onestop/bundles",
    "/onestop/items",
    "/onestop/applications",
    "/onestop/applications/{application_id}",
    "/onestop/tasks",
    "/onestop/public/bundles",
]
APP_MOVES = ["submit", "issue"]
TASK_MOVES = ["accept", "complete", "return"]
PERSONAS = [Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.CITY_ADMIN, Role.AUDITOR]


def _text(resp: Any) -> str:
    try:
        return json.dumps(resp.json(), ensure_ascii=False)
    except ValueError:
        return resp.content.decode("utf-8", "replace")


def test_the_walk_covers_every_onestop_route() -> None:
    from wangge.onestop.api import router

    walked = set(GETS) | {"/onestop/applications"}
    walked |= {f"/onestop/applications/{{application_id}}/{m}" for m in APP_MOVES}
    walked |= {f"/onestop/tasks/{{task_id}}/{m}" for m in TASK_MOVES}
    assert set(router.path_operations) <= walked, sorted(set(router.path_operations) - walked)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", [*PERSONAS, "outsider"])
def test_api_nobody_reads_or_moves_outside_their_scope(persona: str, tree: Any, personas: Any) -> None:
    apps = {
        "inside": make_application(point=tree.village, department=tree.department, applicant_name=INSIDE + "申请人"),
        "outside": make_application(
            point=tree.other_town, department=tree.other_department, applicant_name=OUTSIDE + "申请人"
        ),
    }
    _, raw = api_token_create(user=personas[persona], name="walk")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    city_wide = persona in (Role.CITY_ADMIN, Role.AUDITOR)
    forbidden = "inside" if persona == "outsider" else (None if city_wide else "outside")
    for world, app in apps.items():
        for route in GETS:
            resp = client.get("/api/v1" + route.replace("{application_id}", str(app.pk)))
            body = _text(resp)
            assert resp.status_code < 500, (route, resp.status_code)
            assert "13907310001" not in body, f"unmasked phone at {route}"
            if forbidden:
                mark = INSIDE if forbidden == "inside" else OUTSIDE
                assert mark not in body, f"{persona} read {forbidden} data at {route}"
            if "{" in route and world == forbidden:
                assert resp.status_code == 404, (persona, route)
        if world != forbidden:
            continue
        task = app.tasks.get()
        payload = json.dumps({"reason": "x", "result": "x", "certificate_number": "x"})
        for move in APP_MOVES:
            url = f"/api/v1/onestop/applications/{app.pk}/{move}"
            resp = client.post(url, payload, content_type="application/json")
            assert resp.status_code == 404, (persona, move, resp.status_code)
        for move in TASK_MOVES:
            resp = client.post(f"/api/v1/onestop/tasks/{task.pk}/{move}", payload, content_type="application/json")
            assert resp.status_code == 404, (persona, move, resp.status_code)
        create = client.post(
            "/api/v1/onestop/applications",
            json.dumps({"bundle_id": app.bundle_id, "point_id": app.point_id, "facts": {}}),
            content_type="application/json",
        )
        assert create.status_code == 404, (persona, create.status_code)
    for app in apps.values():
        app.refresh_from_db()
        assert app.state == AppState.SUBMITTED
        assert app.tasks.get().state == TaskState.PENDING
    # Not an empty pass: window staff and the city see their own application, departments their task.
    own = OUTSIDE if persona == "outsider" else INSIDE
    if persona in (Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN, Role.AUDITOR, "outsider"):
        assert own in _text(client.get("/api/v1/onestop/applications"))
    if persona == Role.DEPARTMENT:
        queue = client.get("/api/v1/onestop/tasks").json()
        assert [t["application_id"] for t in queue] == [apps["inside"].pk]
