"""Pages and API: the combined form, each department's part side by side, scoping, the public figures."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.onestop import services
from wangge.onestop.demo import BUSINESS_FACTS, seed_catalogue
from wangge.onestop.figures import bundle_items, combined_materials
from wangge.onestop.models import Application, AppState, ServiceBundle
from wangge.onestop.testing import GOOD_ID, make_application
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def business(tree: Any) -> ServiceBundle:
    seed_catalogue(tree.city)
    return ServiceBundle.objects.get(code="KBQY")


def _form(bundle: ServiceBundle, point: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bundle": bundle.pk,
        "point": point.pk,
        **BUSINESS_FACTS,
        "materials": [m.pk for m in combined_materials(bundle_items(bundle))],
        "identity_method": "id_card_reader",
        "action": "submit",
    }
    data.update(overrides)
    return data


def test_the_combined_form_asks_each_fact_and_material_once(tree: Any, personas: Any, business: Any) -> None:
    body = client_for(personas[Role.TOWN]).get(reverse("onestop:apply"), {"bundle": business.pk}).content.decode()
    # company_name is needed by all five items and appears once; so does the ID card, needed by four.
    assert body.count('data-fact="company_name"') == 1
    assert body.count('data-fact="id_number"') == 1
    assert body.count('data-material="M01"') == 1
    assert 'data-material="M05"' not in body  # the licence is issued inside the bundle
    assert body.count("data-material=") == 5
    assert "统一社会信用代码" not in body  # not asked by any of these items


def test_a_window_clerk_accepts_through_the_form(tree: Any, personas: Any, business: Any) -> None:
    resp = client_for(personas[Role.TOWN]).post(reverse("onestop:apply"), _form(business, tree.town))
    app = Application.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("onestop:application", kwargs={"pk": app.pk})
    assert app.state == AppState.SUBMITTED and app.tasks.count() == 5
    assert app.identity_method == "id_card_reader"


def test_form_errors_name_each_field_in_both_languages_and_write_nothing(
    tree: Any, personas: Any, business: Any
) -> None:
    data = _form(business, tree.town, id_number=GOOD_ID[:-1] + "9", phone="12345", materials=[])
    resp = client_for(personas[Role.TOWN]).post(reverse("onestop:apply"), data)
    body = resp.content.decode()
    assert resp.status_code == 400
    assert 'data-error-for="id_number"' in body and 'data-error-for="phone"' in body
    assert (
        "申请人身份证号码：不是有效的 18 位身份证号码" in body and "applicant&#x27;s ID number: is not a valid" in body
    )
    assert "联系电话：号码格式不正确" in body and "phone: is not a valid phone number" in body
    assert BUSINESS_FACTS["company_name"] in body  # what was typed is kept
    assert not Application.objects.exists()


def test_a_village_clerk_on_the_form_is_told_the_bundle_needs_the_town(tree: Any, personas: Any, business: Any) -> None:
    resp = client_for(personas[Role.VILLAGE]).post(reverse("onestop:apply"), _form(business, tree.village))
    body = resp.content.decode()
    assert resp.status_code == 400
    assert 'data-testid="error-bundle"' in body and "村级服务点不能受理" in body
    assert not Application.objects.exists()


def test_application_page_shows_each_department_side_by_side_with_elapsed_time(
    tree: Any, personas: Any, business: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SH), tick=False) as clock:
        client_for(personas[Role.TOWN]).post(reverse("onestop:apply"), _form(business, tree.town))
        app = Application.objects.get()
        staff = make_user(role=Role.DEPARTMENT, departments=[app.tasks.get(item__code="QY01").department])
        dept = client_for(staff)
        task = app.tasks.get(item__code="QY01")
        dept.post(reverse("onestop:task", kwargs={"pk": task.pk}), {"action": "accept"})
        dept.post(
            reverse("onestop:task", kwargs={"pk": task.pk}),
            {"action": "complete", "result": "ok", "certificate_number": "91430181MA4T0001"},
        )
        clock.move_to(dt.datetime(2026, 3, 9, 13, 30, tzinfo=SH))
        body = (
            client_for(personas[Role.TOWN]).get(reverse("onestop:application", kwargs={"pk": app.pk})).content.decode()
        )
    assert body.count("data-task=") == 5
    assert 'data-task="QY01" data-state="done"' in body and 'data-task="QY05" data-state="pending"' in body
    assert '<strong data-testid="elapsed">0.50</strong>' in body  # 4.5 of 9 working hours
    assert 'data-testid="on-time"' in body
    assert GOOD_ID not in body and "430181********0018" in body
    assert BUSINESS_FACTS["phone"] not in body and "139****0001" in body
    assert 'data-testid="issue"' not in body  # not every department is done


def test_scoping_of_applications_and_tasks(tree: Any, personas: Any) -> None:
    mine = make_application(point=tree.village, department=tree.department, applicant_name="村内申请人")
    theirs = make_application(point=tree.other_town, department=tree.other_department, applicant_name="外镇申请人")
    lists = {
        p: client_for(personas[p]).get(reverse("onestop:applications")).content.decode()
        for p in (Role.TOWN, Role.VILLAGE, Role.DEPARTMENT, Role.CITY_ADMIN, "outsider")
    }
    assert "村内申请人" in lists[Role.TOWN] and "外镇申请人" not in lists[Role.TOWN]
    assert "村内申请人" in lists[Role.VILLAGE] and "外镇申请人" not in lists[Role.VILLAGE]
    assert "村内申请人" not in lists[Role.DEPARTMENT] and "外镇申请人" not in lists[Role.DEPARTMENT]
    assert "村内申请人" in lists[Role.CITY_ADMIN] and "外镇申请人" in lists[Role.CITY_ADMIN]
    assert "外镇申请人" in lists["outsider"] and "村内申请人" not in lists["outsider"]
    dept = client_for(personas[Role.DEPARTMENT])
    queue = dept.get(reverse("onestop:tasks")).content.decode()
    assert mine.number in queue and theirs.number not in queue
    assert dept.get(reverse("onestop:task", kwargs={"pk": theirs.tasks.get().pk})).status_code == 404
    assert dept.get(reverse("onestop:application", kwargs={"pk": mine.pk})).status_code == 404
    assert (
        client_for(personas[Role.VILLAGE]).get(reverse("onestop:application", kwargs={"pk": theirs.pk})).status_code
        == 404
    )


def test_a_department_sees_only_the_facts_its_item_needs_with_the_id_masked(
    tree: Any, personas: Any, business: Any
) -> None:
    client_for(personas[Role.TOWN]).post(reverse("onestop:apply"), _form(business, tree.town))
    app = Application.objects.get()
    social = app.tasks.get(item__code="QY04")  # social insurance: company, address, employees, phone
    bank = app.tasks.get(item__code="QY05")
    staff = make_user(role=Role.DEPARTMENT, departments=[social.department, bank.department])
    client = client_for(staff)
    social_body = client.get(reverse("onestop:task", kwargs={"pk": social.pk})).content.decode()
    assert 'data-fact="employees"' in social_body and 'data-fact="id_number"' not in social_body
    assert 'data-fact="business_scope"' not in social_body
    bank_body = client.get(reverse("onestop:task", kwargs={"pk": bank.pk})).content.decode()
    assert "430181********0018" in bank_body and GOOD_ID not in bank_body


def test_the_public_page_needs_no_login_and_shows_no_personal_data(tree: Any, personas: Any, business: Any) -> None:
    staff = make_user(role=Role.DEPARTMENT, departments=[bi.item.department for bi in business.bundle_items.all()])
    with time_machine.travel(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SH), tick=False) as clock:
        client_for(personas[Role.TOWN]).post(reverse("onestop:apply"), _form(business, tree.town))
        app = Application.objects.get()
        for task in app.tasks.all():
            services.task_accept(user=staff, task=task)
            services.task_complete(user=staff, task=task, result="ok")
        clock.move_to(dt.datetime(2026, 3, 9, 12, 0, tzinfo=SH))
        app.refresh_from_db()
        services.application_issue(user=personas[Role.TOWN], application=app)
    resp = Client().get(reverse("onestop:public"))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-bundle="KBQY"' in body and "开办企业" in body
    assert "0.33" in body.split('data-testid="avg-KBQY"')[1][:200]  # 3 of 9 working hours
    for private in (BUSINESS_FACTS["applicant_name"], BUSINESS_FACTS["company_name"], "139", app.number):
        assert private not in body


def test_api_creates_submits_and_departments_move_their_tasks(tree: Any, personas: Any, business: Any) -> None:
    _, raw = api_token_create(user=personas[Role.TOWN], name="window app")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    client = Client()
    payload = {
        "bundle_id": business.pk,
        "point_id": tree.town.pk,
        "facts": {**BUSINESS_FACTS, "credit_code": "x"},
        "materials_received": [m.pk for m in combined_materials(bundle_items(business))],
        "identity_method": "face",
        "submit": True,
    }
    bad = client.post(
        reverse("api-v1:create_application"), json.dumps(payload), content_type="application/json", **auth
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "credit_code" and bad.json()["message_en"]
    payload["facts"] = BUSINESS_FACTS
    resp = client.post(
        reverse("api-v1:create_application"), json.dumps(payload), content_type="application/json", **auth
    )
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["state"] == "submitted" and len(data["tasks"]) == 5
    assert data["id_number_masked"] == "430181********0018" and data["phone_masked"] == "139****0001"
    task_id = next(t["id"] for t in data["tasks"] if t["item_code"] == "QY02")
    department = business.bundle_items.get(item__code="QY02").item.department
    _, dept_raw = api_token_create(user=make_user(role=Role.DEPARTMENT, departments=[department]), name="police")
    dept_auth = {"HTTP_AUTHORIZATION": f"Bearer {dept_raw}"}
    queue = client.get(reverse("api-v1:list_tasks"), **dept_auth).json()
    assert [t["item_code"] for t in queue] == ["QY02"]
    assert queue[0]["facts"]["id_number"] == "430181********0018"
    assert (
        client.post(reverse("api-v1:accept_task", kwargs={"task_id": task_id}), **dept_auth).json()["state"]
        == "accepted"
    )
    done = client.post(
        reverse("api-v1:complete_task", kwargs={"task_id": task_id}),
        json.dumps({"certificate_number": "Z-1"}),
        content_type="application/json",
        **dept_auth,
    )
    assert done.json()["state"] == "done"
    # The department cannot read applications; an outsider cannot see this one.
    assert (
        client.get(reverse("api-v1:get_application", kwargs={"application_id": data["id"]}), **dept_auth).status_code
        == 404
    )
    _, out_raw = api_token_create(user=personas["outsider"], name="other")
    outsider = {"HTTP_AUTHORIZATION": f"Bearer {out_raw}"}
    assert client.get(reverse("api-v1:list_applications"), **outsider).json() == []
    refused = client.post(reverse("api-v1:issue_application", kwargs={"application_id": data["id"]}), **auth)
    assert refused.status_code == 400 and refused.json()["field"] == "tasks"


def test_api_catalogue_and_public_figures(tree: Any, personas: Any, business: Any) -> None:
    _, raw = api_token_create(user=personas[Role.VILLAGE], name="village point")
    bundles = Client().get(reverse("api-v1:list_bundles"), HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    kbqy = next(b for b in bundles if b["code"] == "KBQY")
    assert kbqy["figures"] == {"materials": 5, "steps": 3, "days": 1, "fee_fen": 0}
    assert [f["key"] for f in kbqy["facts"]].count("company_name") == 1
    assert not kbqy["village_ok"] and next(b for b in bundles if b["code"] == "CJR")["village_ok"]
    items = (
        Client().get(reverse("api-v1:onestop_items") + "?village_ok=true", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    )
    assert len(items) == 44
    public = Client().get(reverse("api-v1:public_bundles")).json()
    assert {"code": "KBQY", "issued": 0}.items() <= public[0].items()
    assert Client().get(reverse("api-v1:list_bundles")).status_code == 401


def test_the_catalogue_and_item_pages(tree: Any, personas: Any, business: Any) -> None:
    client = client_for(personas[Role.VILLAGE])
    body = client.get(reverse("onestop:catalogue")).content.decode()
    assert 'data-testid="figures-KBQY"' in body and '<b data-figure="materials">5</b>' in body
    items = client.get(reverse("onestop:items"), {"village": "1"}).content.decode()
    assert items.count("<tr>") - 1 == 44
