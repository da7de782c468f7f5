"""The workbench, the visit form, opinions and coverage through Django's test client."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from wangge.accounts.models import Role
from wangge.demands import services as demand_services
from wangge.demands.models import Demand, DemandPhoto, State
from wangge.demands.testing import make_demand
from wangge.registry.testing import make_household
from wangge.visits.models import FollowUp, Opinion, Visit
from wangge.visits.testing import make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def jpeg() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "khaki").save(buf, format="JPEG")
    return SimpleUploadedFile("result.jpg", buf.getvalue(), content_type="image/jpeg")


def client_for(user: Any, **headers: Any) -> Client:
    client = Client(**headers)
    client.force_login(user)
    return client


def htmx(user: Any) -> Client:
    return client_for(user, HTTP_HX_REQUEST="true")


def error_of(body: str, name: str) -> str:
    return " ".join(re.findall(rf'data-testid="error-{name}">([^<]*)<', body))


def test_grid_leaders_land_on_the_workbench_and_others_do_not(personas: Any) -> None:
    response = client_for(personas[Role.GRID_LEADER]).get(reverse("core:home"))
    assert response.status_code == 302 and response["Location"] == reverse("visits:workbench")
    assert client_for(personas[Role.TOWN]).get(reverse("core:home")).status_code == 200


def test_the_workbench_shows_my_queue_countdowns_and_households(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    now = dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        waiting = make_demand(grid=tree.grid, title="井盖松动", urgency="urgent")
        held = make_demand(grid=tree.grid, title="垃圾没人清")
        demand_services.demand_accept(demand=held, actor=leader)
        make_demand(grid=tree.sibling_grid, title="隔壁网格的事")
        never = make_household(grid=tree.grid, head_name="从未走访户", care_tags=["elderly_alone"])
        old = make_household(grid=tree.grid, head_name="上月走访户")
        recent = make_household(grid=tree.grid, head_name="本月走访户")
        make_visit(visitor=leader, household=old, visited_at=now - dt.timedelta(days=30))
        make_visit(visitor=leader, household=recent, visited_at=now - dt.timedelta(days=2))
        body = client_for(leader).get(reverse("visits:workbench")).content.decode()
    assert tree.grid.name in body
    waiting_html = body.split('data-testid="waiting"')[1].split('data-testid="in-progress"')[0]
    assert waiting.code in waiting_html and held.code not in waiting_html
    assert held.code in body.split('data-testid="in-progress"')[1]
    assert "隔壁网格的事" not in body
    # Urgent: two calendar hours to accept, counted down from the server's clock.
    assert f'data-due="{waiting.accept_due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()}"' in body
    assert 'data-now="' in body and "workbench.js" in body
    order = [body.index(name) for name in ("从未走访户", "上月走访户", "本月走访户")]
    assert order == sorted(order)
    assert "独居老人" in body or "Elderly living alone" in body
    assert f"?household={never.pk}" in body
    assert 'data-testid="bench-coverage"' in body


def test_the_workbench_runs_a_fixed_number_of_queries(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    client = client_for(leader)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("visits:workbench"))
        assert response.status_code == 200
        return len(ctx)

    make_household(grid=tree.grid)
    make_demand(grid=tree.grid)
    few = count()
    for n in range(12):
        household = make_household(grid=tree.grid, care_tags=["low_income"] if n % 2 else [])
        make_visit(visitor=leader, household=household, opinions=[{"text": f"意见{n}"}])
        demand = make_demand(grid=tree.grid, category="0401" if n % 2 else None)
        if n % 3 == 0:
            demand_services.demand_accept(demand=demand, actor=leader)
    assert count() == few


def test_one_tap_accept_swaps_the_card(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = make_demand(grid=tree.grid)
    url = reverse("visits:demand_move", args=[demand.pk, "accept"])
    response = htmx(leader).post(url, {"version": demand.version})
    body = response.content.decode()
    assert response.status_code == 200 and f'id="demand-{demand.pk}"' in body
    assert 'data-state="in_progress"' in body and 'data-testid="resolve"' in body
    demand.refresh_from_db()
    assert demand.state == State.IN_PROGRESS and demand.holder_user == leader
    # The same (stale) page tapped again: a conflict shown on the card, nothing changed.
    again = htmx(leader).post(url, {"version": 1})
    assert again.status_code == 200 and 'data-testid="card-error"' in again.content.decode()
    demand.refresh_from_db()
    assert demand.version == 2


def test_resolve_with_a_note_and_a_camera_photo(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = demand_services.demand_accept(demand=make_demand(grid=tree.grid), actor=leader)
    url = reverse("visits:demand_move", args=[demand.pk, "resolve"])
    empty = htmx(leader).post(url, {"version": demand.version, "result": " "})
    assert "不能为空" in empty.content.decode()
    assert Demand.objects.get(pk=demand.pk).state == State.IN_PROGRESS
    response = htmx(leader).post(url, {"version": demand.version, "result": "已清理完毕", "photos": jpeg()})
    assert response.status_code == 200 and 'data-testid="card-done"' in response.content.decode()
    demand.refresh_from_db()
    assert demand.state == State.RESOLVED and demand.resolution == "已清理完毕"
    assert DemandPhoto.objects.filter(demand=demand, event__action="resolve").count() == 1


def test_escalate_with_a_reason_without_javascript(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = demand_services.demand_accept(demand=make_demand(grid=tree.grid), actor=leader)
    url = reverse("visits:demand_move", args=[demand.pk, "escalate"])
    response = client_for(leader).post(url, {"version": demand.version, "reason": "需要村里协调"})
    assert response.status_code == 302 and response["Location"] == reverse("visits:workbench")
    demand.refresh_from_db()
    assert demand.state == State.ESCALATED and demand.holder_area == tree.branch


def test_moves_on_a_demand_i_do_not_hold_are_refused(personas: Any, tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    branch = htmx(personas[Role.BRANCH]).post(reverse("visits:demand_move", args=[demand.pk, "accept"]))
    assert 'data-testid="card-error"' in branch.content.decode()
    outsider = client_for(personas["outsider"]).post(reverse("visits:demand_move", args=[demand.pk, "accept"]))
    assert outsider.status_code == 404
    other = client_for(personas[Role.GRID_LEADER]).post(reverse("visits:demand_move", args=[demand.pk, "reject"]))
    assert other.status_code == 404
    demand.refresh_from_db()
    assert demand.state == State.SUBMITTED and demand.version == 1


def visit_form(household: Any, **overrides: Any) -> dict[str, Any]:
    data = {"household": household.pk, "how": "in_person", "notes": "", "idempotency_key": str(uuid.uuid4())}
    data.update(overrides)
    return data


def test_logging_a_visit_with_an_opinion_and_a_demand(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    household = make_household(grid=tree.grid, head_name="陈大爷")
    client = client_for(leader)
    page = client.get(reverse("visits:new") + f"?household={household.pk}").content.decode()
    assert "陈大爷" in page and 'capture="environment"' in page
    data = visit_form(
        household,
        how="phone",
        notes="电话问候",
        opinion_text="希望增加公交班次",
        opinion_category="infrastructure",
        demand_description="门前排水沟堵塞，下雨就积水",
        demand_category="0401",
        demand_photos=jpeg(),
    )
    response = client.post(reverse("visits:new"), data)
    assert response.status_code == 302 and response["Location"] == reverse("visits:workbench")
    visit = Visit.objects.get()
    assert visit.how == "phone" and visit.opinions.get().text == "希望增加公交班次"
    assert visit.demand is not None and visit.demand.channel == "visit" and visit.demand.photos.count() == 1
    assert visit.demand.code in client.get(reverse("visits:workbench")).content.decode()
    # The same form sent twice (a second tap on a slow network) logs one visit.
    client.post(reverse("visits:new"), {**data, "demand_photos": jpeg()})
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1


def test_a_refused_demand_shows_next_to_its_field_and_writes_nothing(personas: Any, tree: Any) -> None:
    household = make_household(grid=tree.grid)
    data = visit_form(household, notes="入户了解情况", opinion_text="建议修路", raise_demand="1")
    response = client_for(personas[Role.GRID_LEADER]).post(reverse("visits:new"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "不能为空" in error_of(body, "demand_description")
    assert "入户了解情况" in body and "建议修路" in body  # what was typed is kept
    assert not Visit.objects.exists() and not Opinion.objects.exists() and not Demand.objects.exists()


def test_the_visit_form_offers_only_my_households(personas: Any, tree: Any) -> None:
    mine = make_household(grid=tree.grid, head_name="本网格户")
    other = make_household(grid=tree.sibling_grid, head_name="隔壁网格户")
    client = client_for(personas[Role.GRID_LEADER])
    body = client.get(reverse("visits:new")).content.decode()
    assert "本网格户" in body and "隔壁网格户" not in body
    assert client.get(reverse("visits:new") + f"?household={other.pk}").status_code == 404
    response = client.post(reverse("visits:new"), visit_form(other))
    assert response.status_code == 400 and error_of(response.content.decode(), "household")
    assert not Visit.objects.exists() and mine.pk
    assert client_for(personas[Role.AUDITOR]).get(reverse("visits:new")).status_code == 403


def test_visit_log_and_opinions_pages_follow_up(personas: Any, tree: Any) -> None:
    leader, village = personas[Role.GRID_LEADER], personas[Role.VILLAGE]
    household = make_household(grid=tree.grid, head_name="周婶")
    visit = make_visit(visitor=leader, household=household, notes="聊了孩子上学的事", opinions=[{"text": "校车太少"}])
    opinion = visit.opinions.get()
    log = client_for(village).get(reverse("visits:list")).content.decode()
    assert "聊了孩子上学的事" in log and "校车太少" in log
    client = client_for(village)
    assert "校车太少" in client.get(reverse("visits:opinions")).content.decode()
    url = reverse("visits:opinion_follow_up", args=[opinion.pk])
    client.post(url, {"state": "answered", "answer": ""})
    assert Opinion.objects.get(pk=opinion.pk).state == FollowUp.NOTED
    client.post(url, {"state": "adopted"})
    client.post(url, {"state": "answered", "answer": "已协调增加一班校车"})
    opinion.refresh_from_db()
    assert opinion.state == FollowUp.ANSWERED and opinion.answered_by == village
    answered = client.get(reverse("visits:opinions") + "?state=answered").content.decode()
    assert "已协调增加一班校车" in answered
    assert "校车太少" not in client.get(reverse("visits:opinions") + "?state=noted").content.decode()
    assert client_for(personas["outsider"]).post(url, {"state": "adopted"}).status_code == 404


def test_the_visit_log_runs_a_fixed_number_of_queries(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    client = client_for(personas[Role.TOWN])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("visits:list")).status_code == 200
            assert client.get(reverse("visits:opinions")).status_code == 200
        return len(ctx)

    make_visit(visitor=leader, household=make_household(grid=tree.grid), opinions=[{"text": "一"}])
    few = count()
    for n in range(8):
        make_visit(
            visitor=leader,
            household=make_household(grid=tree.grid),
            opinions=[{"text": f"意见{n}"}, {"text": "再一条"}],
            demand={"description": f"诉求{n}"} if n % 2 else None,
        )
    assert count() == few


def test_the_coverage_page_drills_down_to_households(personas: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    seen = make_household(grid=tree.grid, head_name="已访户")
    make_household(grid=tree.grid, head_name="未访户")
    make_household(grid=tree.sibling_grid)
    make_visit(visitor=leader, household=seen)
    client = client_for(personas[Role.TOWN])
    top = client.get(reverse("visits:coverage")).content.decode()
    # One area of my own: the page starts below it (the town's villages).
    assert tree.town.name in top and reverse("visits:coverage_area", args=[tree.village.pk]) in top
    branch = client.get(reverse("visits:coverage_area", args=[tree.branch.pk])).content.decode()
    row = branch.split(f'data-area="{tree.grid.code}"')[1].split("</tr>")[0]
    assert re.search(r'data-testid="households">2<', row) and re.search(r'data-testid="visited">1 ', row)
    assert re.search(r'data-testid="never">1<', row)
    grid = client.get(reverse("visits:coverage_area", args=[tree.grid.pk])).content.decode()
    assert grid.index("未访户") < grid.index("已访户")
    assert client_for(personas["outsider"]).get(reverse("visits:coverage_area", args=[tree.grid.pk])).status_code == 404


def test_the_back_office_lists_visits_read_only(personas: Any, tree: Any) -> None:
    from wangge.accounts.models import User

    visit = make_visit(
        visitor=personas[Role.GRID_LEADER], household=make_household(grid=tree.grid), opinions=[{"text": "修桥"}]
    )
    admin = User.objects.create_superuser(username="root", password="x-pass-123456", email="")
    client = client_for(admin)
    assert "修桥" in client.get("/admin/visits/opinion/").content.decode()
    assert client.get(f"/admin/visits/visit/{visit.pk}/change/").status_code == 200
    assert client.get("/admin/visits/visit/add/").status_code == 403
