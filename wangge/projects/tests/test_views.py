"""Project pages and API: scoping, the report form, the city's check, the public page without personal data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.projects import services
from wangge.projects.models import ProgressReport, ReportState
from wangge.projects.testing import jpeg, make_city_admin, make_project, make_report
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db
JUNE = dt.datetime(2026, 6, 30, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock_and_media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(JUNE, tick=False) as traveller:
        yield traveller


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def project(tree: Any, personas: Any) -> Any:
    return make_project(
        area=tree.town,
        department=tree.department,
        user=personas[Role.CITY_ADMIN],
        code="MS2026-CW",
        name="新增医疗卫生机构床位",
        target=800,
        unit="张",
        people=[{"name": "罗丽娟", "role": "副局长"}],
    )


def test_the_list_shows_the_users_projects_with_their_people(project: Any, personas: Any, tree: Any) -> None:
    make_project(
        area=tree.other_town,
        department=tree.other_department,
        name="外镇农贸市场",
        people=[{"name": "钱多多", "role": "站长"}],
    )
    body = client_for(personas[Role.DEPARTMENT]).get(reverse("projects:list")).content.decode()
    assert "新增医疗卫生机构床位" in body and "罗丽娟" in body
    assert "外镇农贸市场" not in body and "钱多多" not in body
    city = client_for(personas[Role.CITY_ADMIN]).get(reverse("projects:list")).content.decode()
    assert "外镇农贸市场" in city
    outsider = client_for(personas["outsider"]).get(reverse("projects:list")).content.decode()
    assert "新增医疗卫生机构床位" not in outsider and "外镇农贸市场" in outsider
    assert client_for(personas["outsider"]).get(reverse("projects:detail", args=[project.pk])).status_code == 404


def test_report_then_check_then_public(project: Any, personas: Any) -> None:
    public_url = reverse("projects:public") + "?year=2026"
    staff = client_for(personas[Role.DEPARTMENT])
    resp = staff.post(
        reverse("projects:report", args=[project.pk]),
        {
            "period": "2026-06-30",
            "achieved_to_date": "520",
            "narrative": "市人民医院新院区投用 300 张，经办人罗丽娟",
            "photos": [jpeg()],
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:500]
    report = ProgressReport.objects.get()
    assert report.state == ReportState.SUBMITTED and report.photos.count() == 1
    anonymous = Client()
    before = anonymous.get(public_url).content.decode()
    assert 'data-testid="achieved-MS2026-CW">0<' in before  # not counted before the check
    # The check queue shows it to the city; the city accepts.
    admin = client_for(personas[Role.CITY_ADMIN])
    assert f'data-report="{report.pk}"' in admin.get(reverse("projects:checks")).content.decode()
    assert admin.post(reverse("projects:check", args=[report.pk]), {"action": "accept"}).status_code == 302
    after = anonymous.get(public_url).content.decode()
    assert 'data-testid="achieved-MS2026-CW">520<' in after
    # No personal data on the public page: no responsible people, no reporter, no narrative.
    for private in ("罗丽娟", str(personas[Role.DEPARTMENT]), "经办人", str(personas[Role.CITY_ADMIN])):
        assert private not in after


def test_the_report_form_shows_errors_next_to_the_field(project: Any, personas: Any) -> None:
    staff = client_for(personas[Role.TOWN])
    resp = staff.post(
        reverse("projects:report", args=[project.pk]), {"period": "2026-06-30", "achieved_to_date": "五百"}
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'data-field="achieved_to_date"' in body and "整数" in body
    resp = staff.post(reverse("projects:report", args=[project.pk]), {"period": "2026-07-09", "achieved_to_date": "5"})
    assert resp.status_code == 400 and 'data-field="period"' in resp.content.decode()
    assert not ProgressReport.objects.exists()


def test_who_may_open_the_report_form_and_act_on_a_check(project: Any, personas: Any) -> None:
    url = reverse("projects:report", args=[project.pk])
    assert client_for(personas[Role.DEPARTMENT]).get(url).status_code == 200
    assert client_for(personas[Role.TOWN]).get(url).status_code == 200
    assert client_for(personas[Role.CITY_ADMIN]).get(url).status_code == 403
    assert client_for(personas[Role.VILLAGE]).get(url).status_code == 404  # does not see the town's project
    report = make_report(project=project, user=personas[Role.DEPARTMENT])
    resp = client_for(personas[Role.DEPARTMENT]).post(reverse("projects:check", args=[report.pk]), {"action": "accept"})
    assert resp.status_code == 403
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    resp = client_for(personas[Role.CITY_ADMIN]).post(reverse("projects:check", args=[report.pk]), {"action": "return"})
    assert resp.status_code == 400 and 'data-field="reason"' in resp.content.decode()


def test_photos_are_served_only_inside_the_scope(project: Any, personas: Any) -> None:
    report = make_report(project=project, user=personas[Role.DEPARTMENT], photos=[jpeg()])
    url = reverse("projects:photo", args=[report.photos.get().pk])
    resp = client_for(personas[Role.TOWN]).get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/jpeg"
    assert client_for(personas["outsider"]).get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_the_detail_page_has_the_chart_data_and_history(project: Any, personas: Any) -> None:
    report = make_report(
        project=project, user=personas[Role.DEPARTMENT], achieved_to_date=300, period=dt.date(2026, 3, 31)
    )
    services.report_check(user=personas[Role.CITY_ADMIN], report=report, accepted=True)
    body = client_for(personas[Role.CITY_ADMIN]).get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'id="progress-data"' in body and "2026-03-31" in body and "vendor/echarts/echarts.min.js" in body
    assert "cdn" not in body.lower()


# --- API ---------------------------------------------------------------------------------------------


def _api(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_api_list_read_report_check_and_public(project: Any, personas: Any) -> None:
    dept = _api(personas[Role.DEPARTMENT])
    listed = dept.get("/api/v1/projects").json()
    assert [p["code"] for p in listed] == ["MS2026-CW"] and listed[0]["people"][0]["name"] == "罗丽娟"
    resp = dept.post(
        f"/api/v1/projects/{project.pk}/reports",
        json.dumps({"period": "2026-06-30", "achieved_to_date": 410, "narrative": "新院区"}),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    report_id = resp.json()["id"]
    assert resp.json()["increment"] == 410 and resp.json()["state"] == "submitted"
    # Department staff may not check; the city may.
    denied = dept.post(
        f"/api/v1/projects/reports/{report_id}/check", json.dumps({"accepted": True}), content_type="application/json"
    )
    assert denied.status_code == 403 and denied.json()["field"] == "report"
    city = _api(personas[Role.CITY_ADMIN])
    checked = city.post(
        f"/api/v1/projects/reports/{report_id}/check", json.dumps({"accepted": True}), content_type="application/json"
    )
    assert checked.status_code == 200 and checked.json()["state"] == "checked"
    detail = city.get(f"/api/v1/projects/{project.pk}").json()
    assert detail["measure"]["achieved"] == 410 and detail["reports"][0]["id"] == report_id
    public = Client().get("/api/v1/projects/public?year=2026").json()
    assert public[0]["measure"]["achieved"] == 410
    assert "罗丽娟" not in json.dumps(public, ensure_ascii=False) and "people" not in public[0]
    # Outside the scope: 404, nothing written.
    outsider = _api(personas["outsider"])
    assert outsider.get(f"/api/v1/projects/{project.pk}").status_code == 404
    resp = outsider.post(
        f"/api/v1/projects/{project.pk}/reports",
        json.dumps({"period": "2026-06-30", "achieved_to_date": 500}),
        content_type="application/json",
    )
    assert resp.status_code == 404 and ProgressReport.objects.count() == 1


def test_api_bad_report_gets_one_error_shape(project: Any, personas: Any) -> None:
    resp = _api(personas[Role.TOWN]).post(
        f"/api/v1/projects/{project.pk}/reports",
        json.dumps({"period": "2026-06-30", "achieved_to_date": 9999}),
        content_type="application/json",
    )
    assert resp.status_code == 400
    assert resp.json()["field"] == "achieved_to_date" and resp.json()["message"] and resp.json()["message_en"]


def test_api_create_project_for_city_administrators(tree: Any, personas: Any) -> None:
    body = {
        "code": "MS2026-DL",
        "name": "金沙北路北延道路工程",
        "year": 2026,
        "domain": "major_works",
        "works_kind": "road",
        "target": 3800,
        "unit": "米",
        "department_id": tree.other_department.pk,
        "area_id": tree.town.pk,
        "deadline": "2026-12-31",
        "milestones": [{"name": "7月1日前试通车", "due_on": "2026-07-01"}],
    }
    resp = _api(personas[Role.CITY_ADMIN]).post("/api/v1/projects", json.dumps(body), content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["milestones"][0]["name"] == "7月1日前试通车"
    body["code"] = "MS2026-X"
    resp = _api(personas[Role.TOWN]).post("/api/v1/projects", json.dumps(body), content_type="application/json")
    assert resp.status_code == 403


def test_the_city_admin_sees_the_town_and_no_one_else_checks(tree: Any, personas: Any) -> None:
    admin = make_city_admin(tree.city)
    project = make_project(area=tree.city, department=tree.department, user=admin)
    assert client_for(personas[Role.TOWN]).get(reverse("projects:detail", args=[project.pk])).status_code == 404
    assert client_for(personas[Role.DEPARTMENT]).get(reverse("projects:detail", args=[project.pk])).status_code == 200
    assert make_user(role=Role.TOWN, areas=[tree.town])  # a city-wide project is not a town's to report
    assert not services.can_report(personas[Role.TOWN], project)
