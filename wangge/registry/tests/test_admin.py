"""The back office: scoped lists, masked phones and ID numbers, writes through the registry services."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role, User
from wangge.registry.demo import id_number
from wangge.registry.models import Area, Household, Person
from wangge.registry.testing import make_household

pytestmark = pytest.mark.django_db

INSIDE = "内圈户主"
OUTSIDE = "外圈户主"
PHONE = "13912345678"


def _staff(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def world(tree: Any, personas: Any) -> dict[str, Any]:
    ident = id_number(random.Random(5))
    inside = make_household(grid=tree.grid, head_name=INSIDE, phone=PHONE, id_number=ident)
    outside = make_household(grid=tree.other_grid, head_name=OUTSIDE, phone="13700001111")
    return {"inside": inside, "outside": outside, "ident": ident}


def _changelist(client: Client, model: str, **params: str) -> str:
    response = client.get(reverse(f"admin:registry_{model}_changelist"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_town_staff_see_only_their_towns_rows(tree: Any, personas: Any, world: dict[str, Any]) -> None:
    client = _staff(personas[Role.TOWN])
    households = _changelist(client, "household")
    assert INSIDE in households and OUTSIDE not in households
    areas = _changelist(client, "area")
    assert tree.town.name in areas and tree.grid.name in areas
    assert tree.other_town.name not in areas and tree.other_grid.name not in areas
    assert tree.city.name not in areas.split('id="result_list"')[1]
    people = _changelist(client, "person")
    assert "张建国" in people  # the grid leader of the town's grid
    # Another town's household is not reachable by its address either.
    response = client.get(reverse("admin:registry_household_change", args=[world["outside"].pk]))
    assert response.status_code == 302 and OUTSIDE not in client.get(response.url).content.decode()
    # The grid lookup (autocomplete) answers only with grids in scope.
    lookup = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "registry", "model_name": "household", "field_name": "grid", "term": "北正"},
    )
    assert lookup.status_code == 200 and lookup.json()["results"] == []
    lookup = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "registry", "model_name": "household", "field_name": "grid", "term": "金沙"},
    )
    assert {r["text"] for r in lookup.json()["results"]} == {tree.grid.name, tree.sibling_grid.name}


def test_superuser_sees_every_town(tree: Any, personas: Any, world: dict[str, Any]) -> None:
    admin_user = User.objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(admin_user)
    households = _changelist(client, "household")
    assert INSIDE in households and OUTSIDE in households


def test_phone_and_id_are_masked_in_lists_and_forms(tree: Any, personas: Any, world: dict[str, Any]) -> None:
    client = _staff(personas[Role.CITY_ADMIN])
    ident = world["ident"]
    page = _changelist(client, "household")
    assert "139****5678" in page and PHONE not in page
    assert ident[:6] + "********" + ident[-4:] in page and ident not in page
    form = client.get(reverse("admin:registry_household_change", args=[world["inside"].pk])).content.decode()
    assert "139****5678" in form and PHONE not in form and ident not in form
    people = _changelist(client, "person")
    assert "138****1111" in people and "13800001111" not in people
    found = _changelist(client, "household", q=PHONE)  # exact phone search still finds the row
    assert INSIDE in found and "139****5678" in found and OUTSIDE not in found


def _add(client: Client, grid: Area, name: str, **extra: str) -> Any:
    data = {"grid": grid.pk, "address": f"{name}的家", "head_name": name, "members": "3", "_save": "1"}
    data.update(extra)
    return client.post(reverse("admin:registry_household_add"), data)


def test_admin_add_goes_through_the_service_and_refuses_the_31st(tree: Any, personas: Any) -> None:
    client = _staff(personas[Role.VILLAGE])
    response = _add(client, tree.grid, "新户一", new_phone="13811112222", tags=["low_income"])
    assert response.status_code == 302
    added = Household.objects.get(head_name="新户一")
    assert added.phone == "13811112222" and added.care_tags == ",low_income,"
    assert added.key.startswith("ah:")  # the service computed the identity
    tree.grid.refresh_from_db()
    tree.village.refresh_from_db()
    assert tree.grid.household_count == 1 and tree.village.household_count == 1
    for _ in range(29):
        make_household(grid=tree.grid)
    response = _add(client, tree.grid, "第三十一户")
    assert response.status_code == 200
    body = response.content.decode()
    assert "已有 30 户" in body and "already holds 30 households" in body
    assert not Household.objects.filter(head_name="第三十一户").exists()
    tree.grid.refresh_from_db()
    assert tree.grid.household_count == 30 == tree.grid.households.count()
    # A bad phone is refused next to its field, in both languages.
    body = _add(client, tree.sibling_grid, "坏电话", new_phone="12345").content.decode()
    assert "电话号码格式不正确" in body and "The phone number 12345 is not valid" in body


def test_admin_refuses_a_grid_outside_the_scope(tree: Any, personas: Any) -> None:
    client = _staff(personas[Role.TOWN])
    response = _add(client, tree.other_grid, "越界户")
    assert response.status_code == 200
    assert not Household.objects.filter(head_name="越界户").exists()
    tree.other_grid.refresh_from_db()
    assert tree.other_grid.household_count == 0


def test_admin_move_and_delete_keep_the_counts(tree: Any, personas: Any, world: dict[str, Any]) -> None:
    client = _staff(personas[Role.TOWN])
    household = world["inside"]
    url = reverse("admin:registry_household_change", args=[household.pk])
    data = {"grid": tree.sibling_grid.pk, "address": household.address, "head_name": INSIDE, "members": "2"}
    assert client.post(url, {**data, "_save": "1"}).status_code == 302
    household.refresh_from_db()
    assert household.grid_id == tree.sibling_grid.pk and household.area_path == tree.sibling_grid.path
    assert household.phone == PHONE  # blank "new phone" keeps the number
    tree.grid.refresh_from_db()
    tree.sibling_grid.refresh_from_db()
    assert (tree.grid.household_count, tree.sibling_grid.household_count) == (0, 1)
    # The move and the edit are lines of the household's history, with who made them.
    lines = [(c.kind, [f["field"] for f in c.fields], c.changed_by) for c in household.changes.order_by("id")]
    town = personas[Role.TOWN]
    assert lines == [("move_approved", ["grid"], town), ("edit", ["members"], town)]
    delete = reverse("admin:registry_household_delete", args=[household.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    tree.sibling_grid.refresh_from_db()
    tree.town.refresh_from_db()
    assert tree.sibling_grid.household_count == 0 and tree.town.household_count == 0


def test_auditor_may_view_but_never_change(tree: Any, personas: Any, world: dict[str, Any]) -> None:
    client = _staff(personas[Role.AUDITOR])
    assert INSIDE in _changelist(client, "household")
    assert client.get(reverse("admin:registry_household_add")).status_code == 403
    url = reverse("admin:registry_household_change", args=[world["inside"].pk])
    response = client.post(url, {"grid": tree.grid.pk, "address": "改", "head_name": "改名", "members": "1"})
    assert response.status_code == 403
    world["inside"].refresh_from_db()
    assert world["inside"].head_name == INSIDE
    assert client.post(reverse("admin:registry_household_delete", args=[world["inside"].pk])).status_code == 403


def test_non_staff_cannot_open_the_back_office(personas: Any) -> None:
    client = Client()
    client.force_login(personas[Role.CITY_ADMIN])
    response = client.get(reverse("admin:registry_household_changelist"))
    assert response.status_code == 302 and "login" in response.url


def test_user_admin_is_scoped_and_read_only_for_staff(tree: Any, personas: Any) -> None:
    client = _staff(personas[Role.TOWN])
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "p_grid" in page and "p_town" in page and "p_outsider" not in page and "p_city" not in page
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_user_admin_scope_rows_follow_the_role_rule(tree: Any, personas: Any) -> None:
    root = User.objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(root)
    user = personas[Role.VILLAGE]
    url = reverse("admin:accounts_user_change", args=[user.pk])
    scope_row = user.scopes.get()
    base = {
        "username": user.username,
        "role": Role.VILLAGE,
        "display_name": "村干部",
        "phone": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "scopes-TOTAL_FORMS": "1",
        "scopes-INITIAL_FORMS": "1",
        "scopes-MIN_NUM_FORMS": "0",
        "scopes-MAX_NUM_FORMS": "1000",
        "scopes-0-id": scope_row.pk,
        "scopes-0-user": user.pk,
        "_save": "1",
    }
    # A village user scoped to a whole town breaks the role/level rule: refused, nothing changes.
    response = client.post(url, {**base, "scopes-0-area": tree.town.pk})
    assert response.status_code == 200
    assert "角色与区域层级不符" in response.content.decode()
    assert list(user.scopes.values_list("area_id", flat=True)) == [tree.village.pk]
    response = client.post(url, {**base, "scopes-0-area": tree.other_village.pk})
    assert response.status_code == 302
    assert list(user.scopes.values_list("area_id", flat=True)) == [tree.other_village.pk]


def test_area_person_and_department_pages_write_through_services(tree: Any, personas: Any) -> None:
    client = _staff(personas[Role.CITY_ADMIN])
    for name in ("area", "person", "department", "household"):
        assert client.get(reverse(f"admin:registry_{name}_add")).status_code == 200
        assert client.get(reverse(f"admin:registry_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_area_change", args=[tree.grid.pk])).status_code == 200
    # A new grid gets its path from the service; a village cannot sit under a branch.
    data = {"level": "grid", "code": tree.branch.code + "009", "name": "金沙9号微网格", "parent": tree.branch.pk}
    assert client.post(reverse("admin:registry_area_add"), {**data, "number": "9", "_save": "1"}).status_code == 302
    assert Area.objects.get(code=tree.branch.code + "009").path == tree.branch.path + tree.branch.code + "009/"
    bad = {"level": "village", "code": "430181999999", "name": "错层村", "parent": tree.branch.pk, "_save": "1"}
    body = client.post(reverse("admin:registry_area_add"), bad).content.decode()
    assert "村（社区）的上级必须是乡镇（街道）" in body
    assert "the parent of a Village / community must be a Town / street" in body
    assert not Area.objects.filter(code="430181999999").exists()
    # A person added here has the ID encrypted and never echoed back.
    ident = id_number(random.Random(9))
    person = {"name": "新党员", "new_phone": "13655556666", "id_number": ident, "is_party_member": "on"}
    response = client.post(reverse("admin:registry_person_add"), {**person, "branch": tree.branch.pk, "_save": "1"})
    assert response.status_code == 302
    added = Person.objects.get(name="新党员")
    assert added.area_path == tree.branch.path and added.id_number_enc and ident not in added.id_number_enc
    page = client.get(reverse("admin:registry_person_change", args=[added.pk])).content.decode()
    assert ident not in page and "136****6666" in page
