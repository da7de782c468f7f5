"""Pages and API of the director system: the phone checklist, a failed item's demand, records, scoped reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands.models import Demand
from wangge.facilities.models import DirectorLevel, Inspection
from wangge.facilities.testing import jpeg, make_director, make_director_user, make_facility, make_inspection

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def toilet(tree: Any) -> Any:
    return make_facility(area=tree.grid, name="金沙路公厕", department=tree.department)


@pytest.fixture
def staff(toilet: Any) -> Any:
    return make_director_user(facility=toilet, level=DirectorLevel.SANITATION_STAFF, name="周环卫")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(toilet: Any, failed: dict[str, str] | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    failed = failed or {}
    data: dict[str, Any] = {}
    for c in toilet.facility_type.checklist.all():
        if c.code in skip:
            continue
        data[f"item_{c.code}"] = "fail" if c.code in failed else "pass"
        data[f"note_{c.code}"] = failed.get(c.code, "")
    return data


def test_the_list_shows_state_and_stays_in_scope(toilet: Any, staff: Any, personas: Any) -> None:
    make_inspection(director=staff, failed={"floor": "积水"})
    body = _client(personas[Role.TOWN]).get(reverse("facilities:list")).content.decode()
    assert "金沙路公厕" in body and 'data-state="failing"' in body
    assert "金沙路公厕" not in _client(personas["outsider"]).get(reverse("facilities:list")).content.decode()
    # The director sees "facilities I direct" with this period's progress and an inspect button.
    mine = _client(staff.user).get(reverse("facilities:list")).content.decode()
    assert f'data-testid="inspect-{toilet.code}"' in mine and "1 / 2" in mine


def test_the_phone_checklist_has_camera_inputs(toilet: Any, staff: Any) -> None:
    resp = _client(staff.user).get(reverse("facilities:inspect", args=[toilet.pk]))
    body = resp.content.decode()
    assert resp.status_code == 200
    assert body.count('accept="image/*" capture="environment"') == 9  # one per item and one for the visit
    assert body.count('value="fail"') == 8


def test_a_failed_item_posted_from_the_phone_becomes_a_demand(toilet: Any, staff: Any, personas: Any) -> None:
    data = _form(toilet, failed={"handwash": "洗手设施损坏"})
    data["photo_handwash"] = jpeg()
    data["lat"], data["lng"] = "28.1501", "113.6402"
    resp = _client(staff.user).post(reverse("facilities:inspect", args=[toilet.pk]), data)
    inspection = Inspection.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("facilities:inspection", args=[inspection.pk])
    demand = Demand.objects.get()
    assert demand.title == "公厕「金沙路公厕」巡查不合格：洗手设施完好（洗手设施损坏）"
    assert inspection.lat == pytest.approx(28.1501)
    page = _client(staff.user).get(resp["Location"]).content.decode()
    assert demand.code in page and 'data-result="fail"' in page
    photo = inspection.items.get(passed=False).photos.get()
    assert _client(personas[Role.GRID_LEADER]).get(reverse("facilities:photo", args=[photo.pk])).status_code == 200
    assert _client(personas["outsider"]).get(reverse("facilities:photo", args=[photo.pk])).status_code == 404


def test_unmarked_items_are_named_and_nothing_is_written(toilet: Any, staff: Any) -> None:
    resp = _client(staff.user).post(
        reverse("facilities:inspect", args=[toilet.pk]), _form(toilet, skip=("lighting", "rules"))
    )
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "照明正常" in body and "管理制度上墙" in body
    # What was marked stays marked.
    assert 'name="item_floor" value="pass" checked' in body
    assert Inspection.objects.count() == 0


def test_someone_who_is_not_a_director_cannot_open_the_checklist(toilet: Any, staff: Any, personas: Any) -> None:
    assert _client(personas[Role.GRID_LEADER]).get(reverse("facilities:inspect", args=[toilet.pk])).status_code == 403
    assert _client(personas[Role.AUDITOR]).get(reverse("facilities:inspect", args=[toilet.pk])).status_code == 403
    assert _client(personas["outsider"]).get(reverse("facilities:inspect", args=[toilet.pk])).status_code == 404


def test_town_staff_choose_whose_check_they_enter(toilet: Any, staff: Any, personas: Any) -> None:
    cleaner = make_director(facility=toilet, level=DirectorLevel.CLEANER, name="李保洁")
    town = _client(personas[Role.TOWN])
    body = town.get(reverse("facilities:inspect", args=[toilet.pk])).content.decode()
    assert "李保洁" in body and "周环卫" not in body  # staff enter only checks of directors without an account
    resp = town.post(reverse("facilities:inspect", args=[toilet.pk]), {**_form(toilet), "director": cleaner.pk})
    assert resp.status_code == 302
    assert Inspection.objects.get().director == cleaner


def test_the_facility_page_and_records_page(toilet: Any, staff: Any, personas: Any) -> None:
    make_inspection(director=staff)
    town = _client(personas[Role.TOWN])
    page = town.get(reverse("facilities:facility", args=[toilet.pk])).content.decode()
    assert "周环卫" in page and "每周2次" in page and 'data-testid="inspections"' in page
    records = town.get(reverse("facilities:records")).content.decode()
    assert "金沙路公厕" in records and "周环卫" in records
    assert "金沙路公厕" not in _client(personas["outsider"]).get(reverse("facilities:records")).content.decode()


def test_the_api_lists_and_records_inspections_in_scope(toilet: Any, staff: Any, personas: Any) -> None:
    _token, raw = api_token_create(user=staff.user, name="phone")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    listed = client.get("/api/v1/facilities").json()
    assert [f["code"] for f in listed] == [toilet.code]
    assert {d["level"] for d in listed[0]["directors"]} == {"sanitation_staff"}
    items = [
        {"code": c.code, "passed": c.code != "lighting", "note": "灯坏" if c.code == "lighting" else ""}
        for c in toilet.facility_type.checklist.all()
    ]
    resp = client.post(
        f"/api/v1/facilities/{toilet.pk}/inspections", json.dumps({"items": items}), content_type="application/json"
    )
    assert resp.status_code == 201, resp.content
    failed = [i for i in resp.json()["items"] if not i["passed"]]
    assert len(failed) == 1 and failed[0]["demand_code"] == Demand.objects.get().code
    records = client.get("/api/v1/facilities/records").json()
    assert records[0]["director_id"] == staff.pk
    _t, other = api_token_create(user=personas["outsider"], name="x")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert outsider.get(f"/api/v1/facilities/{toilet.pk}").status_code == 404
    assert outsider.get("/api/v1/facilities").json() == []
    resp = outsider.post(
        f"/api/v1/facilities/{toilet.pk}/inspections", json.dumps({"items": items}), content_type="application/json"
    )
    assert resp.status_code == 404 and Inspection.objects.count() == 1
