"""Walk every URL with every role and an outsider: nobody reads outside their scope.

Two worlds are built: "inside" (集里街道, where the personas work) and "outside" (淮川街道, the
outsider's town). Each carries marker strings in names, addresses and phones. For every URL of
the project (the list is read from the URL resolver, so a new URL without a case here fails the
test) and every persona, the response must never contain a marker of a world the persona's scope
does not cover, and detail URLs for objects outside the scope must answer 403 or 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from wangge.accounts.models import Role
from wangge.dashboards.testing import make_export_job
from wangge.facilities.testing import make_walk_world as make_facility_world
from wangge.governance.testing import make_walk_world as make_governance_world
from wangge.notifications.testing import make_message
from wangge.onestop.testing import make_application as make_onestop_application
from wangge.opengov.testing import make_walk_world as make_opengov_world
from wangge.parking.testing import make_lot as make_parking_lot
from wangge.projects.testing import make_walk_world as make_project_world
from wangge.registry.importing.testing import make_import_job
from wangge.registry.testing import make_household


def _import_job_for(grid: Any) -> Any:
    """An import job of the grid's city (created once per city and reused)."""
    from wangge.registry.models import ImportJob

    city_path = grid.ancestor_paths()[0]
    return ImportJob.objects.filter(area_path=city_path, kind="registry").first() or make_import_job(grid=grid)


def _hotline_job_for(grid: Any) -> Any:
    """A hotline import job (the 12345 export uploaded on the web) of the grid's city."""
    from wangge.registry.models import ImportJob

    city_path = grid.ancestor_paths()[0]
    found = ImportJob.objects.filter(area_path=city_path, kind="hotline").first()
    return found or make_import_job(grid=grid, kind="hotline", original_name="12345.xlsx")


def _move_of(household: Any) -> Any:
    """A proposed move of the world's household to a new grid of its village (made once, on first use)."""
    from wangge.registry.models import HouseholdMoveRequest
    from wangge.registry.services import household_move_propose
    from wangge.registry.testing import make_area

    found = HouseholdMoveRequest.objects.filter(household=household).first()
    if found is not None:
        return found
    grid = household.grid
    target = make_area(level=grid.level, parent=grid.parent, name=grid.name + "新")
    return household_move_propose(household=household, to_grid=target, by=None, reason="搬家")


def _follower_of(demand: Any) -> Any:
    """A neighbour following the world's demand (made once, on first use)."""
    from wangge.demands.services import demand_follow

    return demand.followers.first() or demand_follow(demand=demand, phone="13700007777")


INSIDE_MARK = "内圈标记"
OUTSIDE_MARK = "外圈标记"

# URL name -> function(world) giving kwargs for an object of that world; None for list pages.
# Each app adds the URLs it owns. A URL missing here makes `test_every_url_has_a_case` fail.
Case = Callable[[dict[str, Any]], dict[str, Any]] | None
CASES: dict[str, Case] = {
    "core:home": None,
    "core:healthz": None,
    "accounts:login": None,
    "accounts:logout": None,
    "registry:areas": None,
    "registry:area": lambda w: {"pk": w["grid"].pk},
    "registry:households": None,
    "registry:grid_sizes": None,
    # The register kept by grid leaders: the household page (history), its form (writers of its areas;
    # an auditor 403), the village's queue of moves, the decision (POST only; scoped like the household).
    "registry:household": lambda w: {"pk": w["household"].pk},
    "registry:household_edit": lambda w: {"pk": w["household"].pk},
    "registry:moves": None,
    "registry:move_decide": lambda w: {"pk": _move_of(w["household"]).pk},
    # Imports are city-wide and for city administrators only: everyone else gets 403.
    "registry:import": None,
    "registry:import_template": None,
    "registry:import_job": lambda w: {"pk": _import_job_for(w["grid"]).pk},
    "registry:boundaries": None,
    "registry:base_layer": None,  # the county's town and village outlines: names of places, no one's data
    "registry:map_tile": lambda w: {"z": 0, "x": 0, "y": 0},  # no MBTiles in tests: 404 in both worlds
    "notifications:outbox": None,
    "notifications:message": lambda w: {"pk": w["message"].pk},
    "demands:report": None,
    "demands:places": None,
    "demands:track": lambda w: {"token": w["demand"].tracking_token},
    "demands:track_photo": lambda w: {"token": w["demand"].tracking_token, "pk": w["demand"].photos.first().pk},
    "demands:list": None,
    "demands:new": None,
    "demands:detail": lambda w: {"pk": w["demand"].pk},
    "demands:move": lambda w: {"pk": w["demand"].pk, "move": "accept"},
    "demands:photo": lambda w: {"pk": w["demand"].photos.first().pk},
    # The moderation queue: each moderator's own areas; other roles 403 (wangge/demands/tests/test_publishing.py).
    "demands:publishing": None,
    "demands:grid_qr": lambda w: {"pk": w["grid"].pk},
    "demands:grid_qr_sheet": lambda w: {"pk": w["grid"].parent_id},
    # 督办 and 协办 (posts scoped first, like demands:move), and the 协办任务 list of the user's departments.
    "demands:urge": lambda w: {"pk": w["demand"].pk},
    "demands:assist_add": lambda w: {"pk": w["demand"].pk},
    "demands:assist_reply": lambda w: {"assist_pk": w["assist"].pk},
    "demands:assist_tasks": None,
    # Triage in demands: a follower's page (by its own token), the category confirmation (POST only;
    # scoped first), the intake form's suggestion fragment, and the hot issues of the user's areas.
    "demands:follow_track": lambda w: {"token": _follower_of(w["demand"]).token},
    "demands:set_category": lambda w: {"pk": w["demand"].pk},
    # 延期 and 挂起: requests and resuming, the decision (POST only; scoped like demands:detail), the queue.
    "demands:request": lambda w: {"pk": w["demand"].pk, "move": "extend"},
    "demands:decide": lambda w: {"pk": w["demand"].pk},
    "demands:requests": None,
    # Reach: "find my demand" (public; it shows nothing before the SMS code), and the SMS short link
    # (its 10-character code is a credential like the tracking token it redirects to).
    "demands:lookup": None,
    "links:demand": lambda w: {"code": w["demand"].short_code},
    "demands:suggestion": None,
    # 核查: the verifier's queue (empty for every role but grid leaders and supervisors, and scoped for those).
    "demands:verify_queue": None,
    # The 12345 return sheet's page: counts the hotline orders of the user's own scope (demand_list).
    "demands:hotline_results": None,
    # The uploaded export's job page: city administrators and call-back clerks of the city (registry selectors).
    "demands:hotline_job": lambda w: {"pk": _hotline_job_for(w["grid"]).pk},
    "triage:hot": None,
    "onestop:catalogue": None,
    "onestop:items": None,
    "onestop:apply": None,
    "onestop:applications": None,
    "onestop:application": lambda w: {"pk": w["onestop_app"].pk},
    "onestop:tasks": None,
    "onestop:task": lambda w: {"pk": w["onestop_app"].tasks.get().pk},
    "onestop:public": None,
    # Projects: the public page shows no people; a world's markers sit in its people and report.
    "projects:list": None,
    "projects:detail": lambda w: {"pk": w["project"].pk},
    "projects:report": lambda w: {"pk": w["project"].pk},
    "projects:checks": None,
    "projects:check": lambda w: {"pk": w["project_report"].pk},
    "projects:photo": lambda w: {"pk": w["project_photo"].pk},
    "projects:public": None,
    # Open government: a world's item is a draft (never public), so its public page answers 404.
    "opengov:catalogue": None,
    "opengov:new": None,
    "opengov:item": lambda w: {"pk": w["disclosure_item"].pk},
    "opengov:attachment": lambda w: {"pk": w["disclosure_file"].pk},
    "opengov:public": None,
    "opengov:public_item": lambda w: {"pk": w["disclosure_item"].pk},
    "opengov:stats": None,
    # Parking: grid leaders and branches get 403; the rest see lots of their area or department.
    "parking:lots": None,
    "parking:lot": lambda w: {"pk": w["parking_lot"].pk},
    "parking:warden": None,
    "parking:whatif": None,
    # Visits: the workbench, the visit form and log, opinions and coverage (drill-down by area).
    "visits:workbench": None,
    "visits:demand_move": lambda w: {"pk": w["demand"].pk, "move": "accept"},
    "visits:new": None,
    "visits:list": None,
    "visits:opinions": None,
    "visits:opinion_follow_up": lambda w: {"pk": w["opinion"].pk},
    "visits:coverage": None,
    "visits:coverage_area": lambda w: {"pk": w["grid"].pk},
    # Facilities (所长制): area staff, the managing department and the facility's own directors.
    "facilities:list": None,
    "facilities:facility": lambda w: {"pk": w["facility"].pk},
    "facilities:inspect": lambda w: {"pk": w["facility"].pk},
    "facilities:inspection": lambda w: {"pk": w["facility_inspection"].pk},
    "facilities:photo": lambda w: {"pk": w["facility_photo"].pk},
    "facilities:records": None,
    # Dashboards: the console (its detail pages are scoped like demands:detail), the dashboard and
    # ranking (each person's own areas), reports, exports (only the person who asked), public figures.
    "dashboards:console": None,
    "dashboards:console_demand": lambda w: {"pk": w["demand"].pk},
    "dashboards:console_comments": lambda w: {"pk": w["demand"].pk},
    "dashboards:console_reply": lambda w: {"pk": w["demand"].pk},
    "dashboards:dashboard": None,
    "dashboards:screen": None,
    "dashboards:map_data": None,
    "dashboards:ranking": None,
    "dashboards:report": None,
    "dashboards:report_xlsx": None,
    "dashboards:exports": None,
    "dashboards:export": lambda w: {"pk": w["export_job"].pk},
    "dashboards:export_download": lambda w: {"pk": w["export_job"].pk},
    "dashboards:public": None,
    # Governance topics (每月一题): a world's topic is proposed (never public, so its public page answers
    # 404) and its staff-only progress note carries the marker; the facility button is POST-only.
    "governance:public": None,
    "governance:public_topic": lambda w: {"pk": w["topic"].pk},
    "governance:list": None,
    "governance:new": None,
    "governance:detail": lambda w: {"pk": w["topic"].pk},
    "governance:action": lambda w: {"pk": w["topic"].pk, "action": "progress"},
    "governance:facility_proactive": lambda w: {"pk": w["facility"].pk},
    # WeChat's callback: signed by the account's token, not a session; unsigned it answers 403 (404 unconfigured)
    # and shows nothing (wangge/wechat/tests/test_callback.py proves forged signatures store nothing).
    "wechat:callback": None,
}
# Resident pages without an account: open to anyone, they show only public area names.
PUBLIC_URLS = {
    "demands:report",
    "demands:lookup",
    "demands:places",
    "onestop:public",
    "dashboards:public",
    "projects:public",
    "opengov:public",
    "opengov:stats",
    "governance:public",
}
# Opened by a resident's private tracking token: the token is the credential, not a scope
# (wangge/demands/tests/test_views.py proves a forged token gets 404 and no staff name shows).
TOKEN_URLS = {"demands:track", "demands:track_photo", "demands:follow_track", "links:demand"}
# Framework URLs that are not ours to scope (the admin has its own test; i18n only redirects).
# The JSON API and Open311 authenticate by token or key, not by session: each has its own walk below.
SKIP_PREFIXES = ("admin:", "set_language", "api-v1:", "open311:")


def _walk(resolver: Any, prefix: str = "") -> list[str]:
    names: list[str] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names.extend(_walk(p, ns))
        elif isinstance(p, URLPattern) and p.name:
            names.append(prefix + p.name)
    return names


def all_url_names() -> list[str]:
    return sorted({n for n in _walk(get_resolver()) if not n.startswith(SKIP_PREFIXES)})


def test_every_url_has_a_case() -> None:
    missing = [n for n in all_url_names() if n not in CASES]
    assert not missing, f"URLs without a scope case in tests/test_scope_walk.py: {missing}"


def _visit_in(household: Any, visitor: Any, mark: str) -> Any:
    """A visit to the world's household with notes and one opinion carrying the world's marker."""
    from wangge.visits.services import visit_log

    return visit_log(
        visitor=visitor, household=household, notes=mark + "走访记录", opinions=[{"text": mark + "意见"}]
    ).visit


def _demand_in(grid: Any, mark: str) -> Any:
    """A resident's demand in `grid` with one photo, its words carrying the world's marker."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from wangge.demands.testing import make_demand

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buf, format="JPEG")
    photo = SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")
    return make_demand(
        grid=grid, title=mark + "路灯", description=mark + "路灯不亮", address=mark + "2号", photos=[photo]
    )


@pytest.fixture
def worlds(tree: Any, personas: Any, settings: Any, tmp_path: Any) -> dict[str, dict[str, Any]]:
    settings.MEDIA_ROOT = tmp_path  # demand photos go to a throwaway folder
    inside = {
        "grid": tree.grid,
        "household": make_household(grid=tree.grid, head_name=INSIDE_MARK + "户主", address=INSIDE_MARK + "1号"),
        "message": make_message(area_path=tree.grid.path, subject=INSIDE_MARK + "通知", body=INSIDE_MARK),
        "demand": _demand_in(tree.grid, INSIDE_MARK),
        "onestop_app": make_onestop_application(
            point=tree.village, department=tree.department, applicant_name=INSIDE_MARK + "申请人"
        ),
        "parking_lot": make_parking_lot(area=tree.village, name=INSIDE_MARK + "停车场", operator=tree.department),
    }
    inside["visit"] = _visit_in(inside["household"], personas[Role.GRID_LEADER], INSIDE_MARK)
    inside["opinion"] = inside["visit"].opinions.get()
    inside.update(make_facility_world(area=tree.grid, department=tree.department, name=INSIDE_MARK + "公厕"))
    outside = {
        "grid": tree.other_grid,
        "household": make_household(
            grid=tree.other_grid, head_name=OUTSIDE_MARK + "户主", address=OUTSIDE_MARK + "1号"
        ),
        "message": make_message(area_path=tree.other_grid.path, subject=OUTSIDE_MARK + "通知", body=OUTSIDE_MARK),
        "demand": _demand_in(tree.other_grid, OUTSIDE_MARK),
        "onestop_app": make_onestop_application(
            point=tree.other_town, department=tree.other_department, applicant_name=OUTSIDE_MARK + "申请人"
        ),
        "parking_lot": make_parking_lot(
            area=tree.other_town, name=OUTSIDE_MARK + "停车场", operator=tree.other_department
        ),
    }
    outside["visit"] = _visit_in(outside["household"], personas["outsider"], OUTSIDE_MARK)
    outside["opinion"] = outside["visit"].opinions.get()
    outside.update(
        make_facility_world(area=tree.other_grid, department=tree.other_department, name=OUTSIDE_MARK + "公厕")
    )
    inside.update(make_project_world(town=tree.town, department=tree.department, mark=INSIDE_MARK))
    outside.update(make_project_world(town=tree.other_town, department=tree.other_department, mark=OUTSIDE_MARK))
    inside.update(make_opengov_world(village=tree.village, mark=INSIDE_MARK))
    outside.update(make_opengov_world(village=tree.other_village, mark=OUTSIDE_MARK))
    inside.update(
        make_governance_world(town=tree.town, department=tree.department, user=personas[Role.TOWN], mark=INSIDE_MARK)
    )
    outside.update(
        make_governance_world(
            town=tree.other_town, department=tree.other_department, user=personas["outsider"], mark=OUTSIDE_MARK
        )
    )
    # An export carries its filters (the marker as search words); only the person who asked opens it.
    inside["export_job"] = make_export_job(user=personas[Role.TOWN], q=INSIDE_MARK)
    outside["export_job"] = make_export_job(user=personas["outsider"], q=OUTSIDE_MARK)
    # 协办: each world's demand has a co-handling task of its own world's department.
    inside["assist"] = _assist_on(inside["demand"], tree.department, INSIDE_MARK)
    outside["assist"] = _assist_on(outside["demand"], tree.other_department, OUTSIDE_MARK)
    return {"inside": inside, "outside": outside}


def _assist_on(demand: Any, department: Any, mark: str) -> Any:
    """A co-handling task on `demand` (a row, as `demand_assist_add` writes it: the world's demand sits at a grid,
    which leads no co-handling)."""
    from wangge.core import clock
    from wangge.demands.models import DemandAssist

    return DemandAssist.objects.create(
        demand=demand, department=department, task=mark + "协办任务", assigned_at=clock.now()
    )


def _get(client: Client, name: str, kwargs: dict[str, Any]) -> Any:
    from django.urls import reverse

    return client.get(reverse(name, kwargs=kwargs or None))


def _body(resp: Any) -> str:
    """The response as text, whether rendered whole or streamed (private files are streamed)."""
    data = b"".join(resp.streaming_content) if resp.streaming else resp.content
    return data.decode("utf-8", "replace")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        Role.GRID_LEADER,
        Role.BRANCH,
        Role.VILLAGE,
        Role.TOWN,
        Role.DEPARTMENT,
        Role.CITY_ADMIN,
        Role.AUDITOR,
        "outsider",
    ],
)
def test_nobody_reads_outside_their_scope(persona: str, personas: Any, worlds: Any) -> None:
    user = personas[persona]
    client = Client()
    client.force_login(user)
    city_wide = persona in (Role.CITY_ADMIN, Role.AUDITOR)
    # Which world's marker this persona must never see.
    if persona == "outsider":
        forbidden, own = "inside", "outside"
    elif city_wide:
        forbidden, own = None, "inside"
    else:
        forbidden, own = "outside", "inside"
    checked = 0
    for name in all_url_names():
        if name == "accounts:logout" or name in TOKEN_URLS:
            continue
        case = CASES[name]
        worlds_to_try = ["inside", "outside"] if case is not None else [None]
        for world in worlds_to_try:
            kwargs = case(worlds[world]) if case is not None and world is not None else {}
            resp = _get(client, name, kwargs)
            body = _body(resp)
            assert resp.status_code < 500, (name, world, resp.status_code)
            if forbidden:
                mark = INSIDE_MARK if forbidden == "inside" else OUTSIDE_MARK
                assert mark not in body, f"{persona} read {forbidden} data at {name} ({world})"
            if case is not None and world == forbidden:
                assert resp.status_code in (403, 404), f"{persona} opened {forbidden} object at {name}"
            checked += 1
    assert checked >= len(CASES) - 1
    # The check above could pass on empty pages: prove the persona does see its own world.
    if persona in (Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN, Role.AUDITOR, "outsider"):
        from django.urls import reverse

        body = client.get(reverse("registry:households")).content.decode()
        mark = INSIDE_MARK if own == "inside" else OUTSIDE_MARK
        assert mark in body, f"{persona} cannot see its own households"


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(worlds: Any) -> None:
    client = Client()
    for name in all_url_names():
        case = CASES[name]
        if name in ("accounts:login", "core:healthz", "accounts:logout") or name in TOKEN_URLS:
            continue
        kwargs = case(worlds["inside"]) if case is not None else {}
        resp = _get(client, name, kwargs)
        body = _body(resp)
        assert INSIDE_MARK not in body and OUTSIDE_MARK not in body, name
        if name in PUBLIC_URLS:
            assert resp.status_code == 200, (name, resp.status_code)
            continue
        assert resp.status_code in (302, 401, 403, 404), (name, resp.status_code)


# --- the API walk (demands): every persona, by bearer token, inside and outside its scope ----------
DEMAND_API_GETS = [
    "/demands",
    "/demands/{id}",
    "/demands/{id}/events",
    "/categories",
    "/demand-requests",
    "/verify-queue",
]
DEMAND_API_MOVES = [
    "accept",
    "resolve",
    "escalate",
    "dispatch",
    "return",
    "reassign",
    "reject",
    "merge",
    "comment",
    "call-back",
    "extend",
    "suspend",
    "resume",
    "extension/decide",
    "suspension/decide",
    "urge",
    "verify",
    "verify-back",
]


def _api_text(resp: Any) -> str:
    """The response as text with Chinese unescaped (JSON writes it as \\uXXXX)."""
    import json

    try:
        return json.dumps(resp.json(), ensure_ascii=False)
    except ValueError:
        return resp.content.decode("utf-8", "replace")


def test_demand_api_walk_covers_every_route() -> None:
    from wangge.demands.api import router

    paths = {p for p in router.path_operations}
    walked = set(DEMAND_API_GETS) | {"/demands"} | {f"/demands/{{demand_id}}/{m}" for m in DEMAND_API_MOVES}
    walked = {p.replace("{id}", "{demand_id}") for p in walked}
    assert paths <= walked, f"demand API routes without a walk case: {sorted(paths - walked)}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        Role.GRID_LEADER,
        Role.BRANCH,
        Role.VILLAGE,
        Role.TOWN,
        Role.DEPARTMENT,
        Role.CITY_ADMIN,
        Role.AUDITOR,
        "outsider",
    ],
)
def test_api_nobody_reads_outside_their_scope(persona: str, tree: Any, personas: Any) -> None:
    from wangge.accounts.services import api_token_create
    from wangge.demands.testing import make_demand

    demands = {
        "inside": make_demand(grid=tree.grid, title=INSIDE_MARK + "诉求", reporter_phone="13900000001"),
        "outside": make_demand(grid=tree.other_grid, title=OUTSIDE_MARK + "诉求", reporter_phone="13900000002"),
    }
    _token, raw = api_token_create(user=personas[persona], name="walk")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    city_wide = persona in (Role.CITY_ADMIN, Role.AUDITOR)
    forbidden = "inside" if persona == "outsider" else (None if city_wide else "outside")
    for world, demand in demands.items():
        for route in DEMAND_API_GETS:
            resp = client.get("/api/v1" + route.replace("{id}", str(demand.pk)))
            body = _api_text(resp)
            assert resp.status_code < 500, (route, resp.status_code)
            assert "13900000001" not in body and "13900000002" not in body, f"unmasked phone at {route}"
            if forbidden:
                mark = INSIDE_MARK if forbidden == "inside" else OUTSIDE_MARK
                assert mark not in body, f"{persona} read {forbidden} data at {route}"
            if "{id}" in route and world == forbidden:
                assert resp.status_code == 404, (persona, route)
        if world == forbidden:
            for move in DEMAND_API_MOVES:
                resp = client.post(
                    f"/api/v1/demands/{demand.pk}/{move}",
                    '{"reason": "x", "result": "x", "instructions": "x", "body": "x", '
                    '"department_id": 1, "to_user_id": 1, "into_id": 1, "reached": false}',
                    content_type="application/json",
                )
                assert resp.status_code == 404, (persona, move, resp.status_code, resp.content[:300])
    # Not an empty pass: everyone except department staff sees its own world's demand in the list.
    if persona != Role.DEPARTMENT:
        own = OUTSIDE_MARK if persona == "outsider" else INSIDE_MARK
        assert own in _api_text(client.get("/api/v1/demands"))
    demands["inside"].refresh_from_db()
    demands["outside"].refresh_from_db()
    assert demands["inside"].state == demands["outside"].state == "submitted"


# --- the API walk (every route of the NinjaAPI): each persona's token and an outsider's key ---------
# Path parameter → the object of a world it names. A new parameter without an entry fails the walk.
API_PATH_OBJECTS: dict[str, Callable[[dict[str, Any]], int]] = {
    "demand_id": lambda w: w["demand"].pk,
    "assist_id": lambda w: w["assist"].pk,
    "area_id": lambda w: w["grid"].pk,
    "application_id": lambda w: w["onestop_app"].pk,
    "task_id": lambda w: w["onestop_app"].tasks.get().pk,
    "project_id": lambda w: w["project"].pk,
    "report_id": lambda w: w["project_report"].pk,
    "item_id": lambda w: w["disclosure_item"].pk,
    "visit_id": lambda w: w["visit"].pk,
    "opinion_id": lambda w: w["opinion"].pk,
    "facility_id": lambda w: w["facility"].pk,
    "inspection_id": lambda w: w["facility_inspection"].pk,
    "topic_id": lambda w: w["topic"].pk,
}
API_POST_BODY = (
    '{"reason": "x", "result": "x", "instructions": "x", "body": "x", "note": "x", '
    '"department_id": 1, "to_user_id": 1, "into_id": 1}'
)


def _api_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path, path parameters) of every operation in the published OpenAPI document."""
    from config.api import api

    routes = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            routes.append((method.upper(), path, params))
    return routes


def test_api_walk_knows_every_path_parameter() -> None:
    routes = _api_routes()
    assert len(routes) > 20
    missing = sorted({n for _m, _p, names in routes for n in names if n not in API_PATH_OBJECTS})
    assert not missing, f"API path parameters without a walk case: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        Role.GRID_LEADER,
        Role.BRANCH,
        Role.VILLAGE,
        Role.TOWN,
        Role.DEPARTMENT,
        Role.CITY_ADMIN,
        Role.AUDITOR,
        "outsider",
        "outsider_key",
    ],
)
def test_every_api_route_stays_inside_the_scope(persona: str, tree: Any, personas: Any, worlds: Any) -> None:
    from wangge.accounts.services import api_token_create
    from wangge.open311.testing import ALL_PERMISSIONS, make_api_key

    if persona == "outsider_key":
        _key, raw = make_api_key(name="外镇密钥", areas=[tree.other_town], permissions=ALL_PERMISSIONS)
        client = Client(HTTP_X_API_KEY=raw)
    else:
        _token, raw = api_token_create(user=personas[persona], name="walk")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    outsider = persona in ("outsider", "outsider_key")
    city_wide = persona in (Role.CITY_ADMIN, Role.AUDITOR)
    forbidden = "inside" if outsider else (None if city_wide else "outside")
    mark = INSIDE_MARK if forbidden == "inside" else OUTSIDE_MARK
    before = {w: (worlds[w]["demand"].state, worlds[w]["demand"].version) for w in worlds}
    walked = 0
    for method, path, params in _api_routes():
        if any(n not in API_PATH_OBJECTS for n in params):
            continue  # test_api_walk_knows_every_path_parameter names it; one failure, not one per persona
        for world in ("inside", "outside") if params else (None,):
            url = path
            for name in params:
                url = url.replace(f"{{{name}}}", str(API_PATH_OBJECTS[name](worlds[world])))  # type: ignore[index]
            if method == "GET":
                resp = client.get(url)
            elif world is None or world == forbidden:
                # Writes are tried only where they must fail: on the other world's objects, or collections.
                resp = client.post(url, API_POST_BODY, content_type="application/json")
            else:
                continue
            walked += 1
            assert resp.status_code < 500, (persona, method, url, resp.status_code)
            if forbidden:
                assert mark not in _api_text(resp), f"{persona} read {forbidden} data at {method} {path}"
            if world is not None and world == forbidden:
                # 422: the body was refused before any lookup; nothing was read or written either way.
                allowed = (403, 404) if method == "GET" else (403, 404, 422)
                assert resp.status_code in allowed, (persona, method, path, resp.status_code)
    assert walked >= 20
    for w, seen in before.items():
        worlds[w]["demand"].refresh_from_db()
        assert (worlds[w]["demand"].state, worlds[w]["demand"].version) == seen, f"{persona} moved a demand"
    if persona != Role.DEPARTMENT:  # not an empty pass: the persona sees its own world's demand
        own = OUTSIDE_MARK if outsider else INSIDE_MARK
        assert own in _api_text(client.get("/api/v1/demands"))


# --- the Open311 walk: keys read only inside their scope; without a key, only the public set -------
# URL name (without format) → "catalogue" (no demand data), "list", "request" (a demand) or "token".
OPEN311_CASES = {
    "discovery": "catalogue",
    "discovery_html": "catalogue",
    "services": "catalogue",
    "service": "catalogue",
    "requests": "list",
    "updates": "list",
    "request": "request",
    "token": "token",
}


def _open311_names() -> list[str]:
    return sorted({n for n in _walk(get_resolver()) if n.startswith("open311:")})


def test_every_open311_url_has_a_case() -> None:
    names = _open311_names()
    assert len(names) >= 15
    missing = [n for n in names if n.split(":")[1].rsplit("_", 1)[0] not in OPEN311_CASES]
    assert not missing, f"Open311 URLs without a case in tests/test_scope_walk.py: {missing}"


def _open311_url(name: str, world: dict[str, Any] | None, submissions: dict[str, Any]) -> str:
    from django.urls import reverse

    base = name.split(":")[1]
    kind = OPEN311_CASES.get(base.rsplit("_", 1)[0], OPEN311_CASES.get(base))
    if base.startswith("service_"):
        return reverse(name, kwargs={"code": "0101"})
    if kind == "request":
        return reverse(name, kwargs={"code": world["demand"].code})  # type: ignore[index]
    if kind == "token":
        return reverse(name, kwargs={"token": submissions[world["demand"].code].token})  # type: ignore[index]
    return reverse(name)


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["town_key", "department_key", "outsider_key", "no_key"])
def test_open311_reads_stay_inside_the_scope(reader: str, tree: Any, worlds: Any, settings: Any) -> None:
    from wangge.open311.testing import make_api_key, make_submission

    settings.OPEN311_PUBLIC_READ = False  # the published (keyless) mode is walked below
    submissions = {w["demand"].code: make_submission(demand=w["demand"]) for w in worlds.values()}
    params: dict[str, str] = {}
    if reader != "no_key":
        scope = {
            "town_key": {"areas": [tree.town]},
            "department_key": {"departments": [tree.department]},
            "outsider_key": {"areas": [tree.other_town]},
        }[reader]
        _key, raw = make_api_key(name=reader, permissions=["open311"], **scope)
        params = {"api_key": raw}
    forbidden = "inside" if reader == "outsider_key" else "outside"
    mark = INSIDE_MARK if forbidden == "inside" else OUTSIDE_MARK
    client = Client()
    for name in _open311_names():
        kind = OPEN311_CASES.get(name.split(":")[1].rsplit("_", 1)[0], "catalogue")
        for world in ("inside", "outside") if kind in ("request", "token") else (None,):
            url = _open311_url(name, worlds[world] if world else None, submissions)
            resp = client.get(url, params)
            body = resp.content.decode("utf-8", "replace")
            assert resp.status_code < 500, (reader, url, resp.status_code)
            assert mark not in body, f"{reader} read {forbidden} data at {url}"
            assert "13900001234" not in body and "李四" not in body, f"personal data at {url}"
            if reader == "no_key" and kind != "catalogue":
                assert resp.status_code == 403, (url, resp.status_code)
            elif world == forbidden:
                assert resp.status_code == 404, (reader, url, resp.status_code)
    if reader in ("town_key", "outsider_key"):  # not an empty pass
        own = OUTSIDE_MARK if reader == "outsider_key" else INSIDE_MARK
        assert own in client.get("/open311/v2/requests.json", params).content.decode()


@pytest.mark.django_db
def test_open311_public_read_shows_no_personal_data(worlds: Any, settings: Any) -> None:
    settings.OPEN311_PUBLIC_READ = True
    client = Client()
    for name in _open311_names():
        kind = OPEN311_CASES.get(name.split(":")[1].rsplit("_", 1)[0], "catalogue")
        if kind in ("list", "request"):
            url = _open311_url(name, worlds["inside"], {})
            body = client.get(url).content.decode()
            assert "13900001234" not in body and "李四" not in body and INSIDE_MARK + "2号" not in body, url
