"""The register kept by grid leaders: one versioned writer, its history, moves the village decides."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.masking import lookup_hash
from wangge.registry import permissions
from wangge.registry.models import (
    ChangeKind,
    Household,
    HouseholdChange,
    HouseholdMember,
    HouseholdMoveRequest,
    MemberStatus,
    MoveState,
)
from wangge.registry.services import MemberDraft, household_move_decide, household_move_propose, household_update
from wangge.registry.testing import make_household, make_user

pytestmark = pytest.mark.django_db

GOOD_ID = "430181199001011233"  # checksum-valid
OTHER_ID = "11010519491231002X"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def error_of(body: str, name: str) -> str:
    return " ".join(re.findall(rf'data-testid="error-{name}">([^<]*)<', body))


# --- the one writer ----------------------------------------------------------------------------


def test_an_edit_writes_the_fields_raises_the_version_and_keeps_history(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h = make_household(grid=tree.grid, phone="13800001111", members=3, care_tags=["low_income"])
    saved = household_update(
        household=h,
        by=leader,
        version=h.version,
        phone="13912345678",
        members="1",
        care_tags=["elderly_alone", "low_income"],
        head_deceased=True,
    )
    assert (saved.phone, saved.members, saved.care_tags, saved.head_deceased) == (
        "13912345678",
        1,
        ",elderly_alone,low_income,",
        True,
    )
    assert saved.version == h.version + 1
    change = HouseholdChange.objects.get(household=h)
    assert change.changed_by == leader and change.kind == ChangeKind.EDIT and change.version == saved.version
    by_field = {line["field"]: line for line in change.fields}
    assert set(by_field) == {"phone", "members", "care_tags", "head_deceased"}
    assert by_field["phone"] == {"field": "phone", "old": "138****1111", "new": "139****5678"}
    assert by_field["members"]["old"] == 3 and by_field["members"]["new"] == 1
    assert by_field["care_tags"]["new"] == ["elderly_alone", "low_income"]


def test_nothing_changed_writes_nothing(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, members=2)
    saved = household_update(household=h, by=personas[Role.GRID_LEADER], version=h.version, members=2)
    assert saved.version == h.version and not HouseholdChange.objects.exists()


def test_a_stale_version_is_a_conflict_and_nothing_is_written(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h = make_household(grid=tree.grid, members=2)
    opened = h.version
    household_update(household=h, by=leader, version=opened, members=4)
    with pytest.raises(Conflict) as caught:
        household_update(household=h, by=personas[Role.VILLAGE], version=opened, members=7, phone="13912345678")
    assert caught.value.status == 409
    assert "其他人" in caught.value.zh or "别人" in caught.value.zh
    assert "Someone else changed this household" in caught.value.en
    h.refresh_from_db()
    assert (h.members, h.phone, h.version) == (4, "", opened + 1)
    assert HouseholdChange.objects.count() == 1


def test_the_update_is_conditional_on_the_version(tree: Any, personas: Any) -> None:
    """The write itself carries `version = <seen>`: a change made between the read and the write loses nothing."""
    h = make_household(grid=tree.grid)
    with CaptureQueriesContext(connection) as queries:
        household_update(household=h, by=personas[Role.GRID_LEADER], version=h.version, members=5)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "household" in q["sql"]]
    assert len(updates) == 1 and '"version" =' in updates[0].split("WHERE", 1)[1]


def test_a_new_id_number_is_checked_stored_encrypted_and_masked_in_history(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, id_number=GOOD_ID)
    saved = household_update(household=h, by=personas[Role.GRID_LEADER], version=h.version, head_id_number=OTHER_ID)
    assert saved.head_id_number_hash == lookup_hash(OTHER_ID)
    assert OTHER_ID not in saved.head_id_number_enc and saved.head_id_number_enc
    assert saved.key == "id:" + lookup_hash(OTHER_ID)[:60]
    line = HouseholdChange.objects.get(household=h).fields[0]
    assert line == {"field": "head_id_number", "old": "430181********1233", "new": "110105********002X"}
    stored = str(list(HouseholdChange.objects.values_list("fields", flat=True)))
    assert GOOD_ID not in stored and OTHER_ID not in stored


def test_bad_phone_id_and_members_name_the_field_in_both_languages(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h = make_household(grid=tree.grid)
    cases = [
        ({"phone": "12345"}, "phone", "电话", "Phone"),
        ({"head_id_number": "430181199001011234"}, "head_id_number", "身份证", "ID number"),
        ({"members": "0"}, "members", "人口", "Members"),
    ]
    for kwargs, field, zh, en in cases:
        with pytest.raises(ValidationFailed) as caught:
            household_update(household=h, by=leader, version=h.version, **{"members": 9, **kwargs})
        assert caught.value.field == field and zh in caught.value.zh and en in caught.value.en, caught.value
    h.refresh_from_db()
    assert h.members == 3 and not HouseholdChange.objects.exists()


def test_an_id_number_of_another_household_is_refused(tree: Any, personas: Any) -> None:
    make_household(grid=tree.grid, id_number=GOOD_ID)
    h = make_household(grid=tree.grid)
    with pytest.raises(ValidationFailed) as caught:
        household_update(household=h, by=personas[Role.GRID_LEADER], version=h.version, head_id_number=GOOD_ID)
    assert caught.value.field == "head_id_number" and caught.value.code == "duplicate"


def test_people_are_added_and_marked_deceased_with_history(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h = make_household(grid=tree.grid)
    h = household_update(
        household=h, by=leader, version=h.version, people=[MemberDraft(name="王小明", relation="孙子")]
    )
    person = HouseholdMember.objects.get(household=h)
    assert (person.name, person.relation, person.status, h.version) == ("王小明", "孙子", MemberStatus.LIVING, 2)
    h = household_update(
        household=h,
        by=leader,
        version=h.version,
        people=[MemberDraft(pk=person.pk, name="王小明", relation="孙子", status=MemberStatus.DECEASED)],
    )
    person.refresh_from_db()
    assert person.status == MemberStatus.DECEASED and h.version == 3
    last = HouseholdChange.objects.filter(household=h).first()
    assert last is not None and last.fields == [
        {
            "field": "person",
            "old": {"name": "王小明", "relation": "孙子", "status": "living"},
            "new": {"name": "王小明", "relation": "孙子", "status": "deceased"},
        }
    ]


def test_people_of_a_lost_race_or_another_household_are_not_written(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h, other = make_household(grid=tree.grid), make_household(grid=tree.grid)
    other = household_update(household=other, by=leader, version=other.version, people=[MemberDraft(name="甲")])
    stranger = HouseholdMember.objects.get(household=other)
    with pytest.raises(ValidationFailed) as caught:
        household_update(household=h, by=leader, version=h.version, people=[MemberDraft(pk=stranger.pk, name="乙")])
    assert caught.value.field == "people.0.name"
    with pytest.raises(ValidationFailed) as caught:
        household_update(household=h, by=leader, version=h.version, members=5, people=[MemberDraft(name=" ")])
    assert "家庭成员第 1 行" in caught.value.zh
    assert "People, line 1" in caught.value.en
    with pytest.raises(Conflict):
        household_update(household=h, by=leader, version=h.version + 7, people=[MemberDraft(name="丙")])
    stranger.refresh_from_db()
    h.refresh_from_db()
    assert stranger.name == "甲" and h.members == 3 and not HouseholdMember.objects.filter(household=h).exists()


# --- who may ----------------------------------------------------------------------------------


def test_outside_the_leaders_grids_is_not_found_and_readers_are_refused(tree: Any, personas: Any) -> None:
    outside = make_household(grid=tree.other_grid, members=2)
    sibling = make_household(grid=tree.sibling_grid, members=2)
    with pytest.raises(NotFound):
        household_update(household=outside, by=personas[Role.GRID_LEADER], version=outside.version, members=5)
    with pytest.raises(NotFound):  # the next grid of the same branch is not the leader's
        household_update(household=sibling, by=personas[Role.GRID_LEADER], version=sibling.version, members=5)
    with pytest.raises(PermissionDenied):
        household_update(household=sibling, by=personas[Role.AUDITOR], version=sibling.version, members=5)
    with pytest.raises(NotFound):
        household_update(household=sibling, by=personas[Role.DEPARTMENT], version=sibling.version, members=5)
    assert set(Household.objects.values_list("members", flat=True)) == {2}
    assert not HouseholdChange.objects.exists()


@pytest.mark.parametrize("persona", [*Role.values, "outsider"])
def test_the_move_queue_filter_and_the_predicate_agree(persona: str, tree: Any, personas: Any) -> None:
    user = personas.get(persona) or make_user(role=persona, areas=[tree.village])
    moves = []
    for grid, target in ((tree.grid, tree.sibling_grid), (tree.other_grid, None)):
        h = make_household(grid=grid)
        if target is None:
            from wangge.registry.testing import make_area

            target = make_area(level="grid", parent=grid.parent)
        moves.append(household_move_propose(household=h, to_grid=target, by=None))
    listed = set(HouseholdMoveRequest.objects.filter(permissions.move_decide_q(user)).values_list("pk", flat=True))
    for m in moves:
        assert (m.pk in listed) == permissions.can_decide_move(user, m.area_path, m.to_grid.path), (persona, m)


def test_edit_page_outside_is_404_and_nothing_written(tree: Any, personas: Any) -> None:
    outside = make_household(grid=tree.other_grid, members=2)
    client = client_for(personas[Role.GRID_LEADER])
    url = reverse("registry:household_edit", args=[outside.pk])
    assert client.get(url).status_code == 404
    resp = client.post(url, {"version": outside.version, "head_name": "x", "address": "y", "members": "5"})
    assert resp.status_code == 404
    outside.refresh_from_db()
    assert outside.members == 2 and outside.head_name != "x"
    # The auditor sees the whole city, so the household exists for them, but they may not change it.
    auditor = client_for(personas[Role.AUDITOR])
    assert auditor.get(reverse("registry:household_edit", args=[outside.pk])).status_code == 403


# --- the page -----------------------------------------------------------------------------------


def _form(h: Household, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": h.version,
        "head_name": h.head_name,
        "address": h.address,
        "members": str(h.members),
        "phone": h.phone_masked,
        "care_tags": h.tag_list,
        "people-TOTAL_FORMS": "0",
        "people-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_page_edits_and_shows_the_history(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, phone="13800001111", id_number=GOOD_ID)
    client = client_for(personas[Role.GRID_LEADER])
    resp = client.post(
        reverse("registry:household_edit", args=[h.pk]), _form(h, members="1", care_tags=["elderly_alone"])
    )
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.members == 1 and h.care_tags == ",elderly_alone," and h.phone == "13800001111"  # masked phone kept
    body = client.get(reverse("registry:household", args=[h.pk])).content.decode()
    assert 'data-testid="history-item"' in body and "独居老人" in body
    assert GOOD_ID not in body and "13800001111" not in body


def test_the_second_of_two_leaders_gets_a_409_in_both_languages(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, members=3)
    first, second = client_for(personas[Role.GRID_LEADER]), client_for(personas[Role.BRANCH])
    url = reverse("registry:household_edit", args=[h.pk])
    assert first.post(url, _form(h, members="4")).status_code == 302
    resp = second.post(url, _form(h, members="6", address="新地址"))
    assert resp.status_code == 409
    message = error_of(resp.content.decode(), "form")
    assert "Someone else changed this household" in message and " / " in message
    h.refresh_from_db()
    assert h.members == 4 and h.address != "新地址"


def test_the_page_adds_a_person_and_shows_them(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid)
    client = client_for(personas[Role.GRID_LEADER])
    url = reverse("registry:household_edit", args=[h.pk])
    assert 'name="people-0-name"' in client.get(url).content.decode()
    data = _form(h, **{"people-TOTAL_FORMS": "1", "people-0-name": "王小明", "people-0-relation": "孙子"})
    data["people-0-status"] = "living"
    assert client.post(url, data).status_code == 302
    body = client.get(reverse("registry:household", args=[h.pk])).content.decode()
    assert "王小明（孙子）" in body


def test_a_bad_phone_on_the_page_names_the_field(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid)
    resp = client_for(personas[Role.GRID_LEADER]).post(
        reverse("registry:household_edit", args=[h.pk]), _form(h, phone="12345", members="7")
    )
    assert resp.status_code == 400
    message = error_of(resp.content.decode(), "phone")
    assert "电话" in message and "Phone" in message
    h.refresh_from_db()
    assert h.members == 3


# --- moves the village decides ------------------------------------------------------------------


def test_a_proposed_move_waits_for_the_village_then_moves(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid)
    leader, village = personas[Role.GRID_LEADER], personas[Role.VILLAGE]
    resp = client_for(leader).post(
        reverse("registry:household_edit", args=[h.pk]), _form(h, to_grid=tree.sibling_grid.pk, reason="搬到新房")
    )
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.grid_id == tree.grid.pk  # nothing moves before the village decides
    move = HouseholdMoveRequest.objects.get(household=h)
    assert move.state == MoveState.PENDING
    with pytest.raises(NotFound):  # the leader does not even see the grid it would move to
        household_move_decide(request=move, by=leader, approve=True)
    with pytest.raises(PermissionDenied):  # the branch sees both grids but does not decide
        household_move_decide(request=move, by=personas[Role.BRANCH], approve=True)
    queue = client_for(village).get(reverse("registry:moves")).content.decode()
    assert f'data-testid="move-{move.pk}"' in queue
    leaders_queue = client_for(leader).get(reverse("registry:moves")).content.decode()
    assert f'data-testid="move-{move.pk}"' not in leaders_queue
    resp = client_for(village).post(reverse("registry:move_decide", args=[move.pk]), {"decision": "approve"})
    assert resp.status_code == 302
    h.refresh_from_db()
    tree.grid.refresh_from_db()
    tree.sibling_grid.refresh_from_db()
    assert h.grid_id == tree.sibling_grid.pk and h.area_path == tree.sibling_grid.path
    assert (tree.grid.household_count, tree.sibling_grid.household_count) == (0, 1)
    kinds = list(HouseholdChange.objects.filter(household=h).order_by("id").values_list("kind", flat=True))
    assert kinds == [ChangeKind.MOVE_PROPOSED, ChangeKind.MOVE_APPROVED]
    with pytest.raises(Conflict):
        household_move_decide(request=move, by=village, approve=False)


def test_a_refused_move_leaves_the_household(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid)
    move = household_move_propose(household=h, to_grid=tree.sibling_grid, by=personas[Role.GRID_LEADER])
    with pytest.raises(Conflict):  # one open proposal per household
        household_move_propose(household=h, to_grid=tree.sibling_grid, by=personas[Role.GRID_LEADER])
    household_move_decide(request=move, by=personas[Role.VILLAGE], approve=False)
    h.refresh_from_db()
    assert h.grid_id == tree.grid.pk
    assert HouseholdChange.objects.filter(household=h, kind=ChangeKind.MOVE_REFUSED).count() == 1


def test_a_move_outside_the_village_is_refused_and_the_edit_with_it(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, members=3)
    with pytest.raises(ValidationFailed) as caught:
        household_move_propose(household=h, to_grid=tree.other_grid, by=None)
    assert caught.value.field == "to_grid"
    # On the page the grids of other villages are not even offered: the posted id is refused by the form.
    resp = client_for(personas[Role.GRID_LEADER]).post(
        reverse("registry:household_edit", args=[h.pk]), _form(h, members="5", to_grid=tree.other_grid.pk)
    )
    assert resp.status_code == 400
    h.refresh_from_db()
    assert h.members == 3 and not HouseholdMoveRequest.objects.exists()


def test_approving_into_a_full_grid_writes_nothing(tree: Any, personas: Any, settings: Any) -> None:
    settings.GRID_HARD_MAX = 1
    h = make_household(grid=tree.grid)
    make_household(grid=tree.sibling_grid)
    move = household_move_propose(household=h, to_grid=tree.sibling_grid, by=None)
    with pytest.raises(ValidationFailed):
        household_move_decide(request=move, by=personas[Role.VILLAGE], approve=True)
    move.refresh_from_db()
    h.refresh_from_db()
    assert move.state == MoveState.PENDING and h.grid_id == tree.grid.pk


def test_a_register_import_that_changes_a_household_is_history_and_moves_its_version(
    tree: Any, personas: Any, tmp_path: Any
) -> None:
    """A re-import is a change like a leader's edit: who imported what is in the history (masked), and a
    form opened before the import gets a conflict instead of silently undoing it."""
    from wangge.registry.importing import registry_import
    from wangge.registry.models import ChangeKind, Household, HouseholdChange
    from wangge.registry.tests.test_import import hh, write_xlsx

    admin = personas[Role.CITY_ADMIN]
    registry_import(path=write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2)]), city=tree.city, actor=admin)
    assert not HouseholdChange.objects.exists()  # created, not changed
    first = Household.objects.get(head_name="户主1")
    seen = first.version
    changed = [hh(1, phone="13512345678", members=6, tags="低保"), hh(2)]
    registry_import(path=write_xlsx(tmp_path / "b.xlsx", changed), city=tree.city, actor=admin)

    (line,) = HouseholdChange.objects.all()
    assert (line.household_id, line.kind, line.changed_by, line.version) == (
        first.pk,
        ChangeKind.IMPORT,
        admin,
        seen + 1,
    )
    by_field = {f["field"]: (f["old"], f["new"]) for f in line.fields}
    assert by_field == {
        "phone": ("139****0001", "135****5678"),
        "members": (3, 6),
        "care_tags": ([], ["low_income"]),
    }
    assert Household.objects.get(pk=first.pk).version == seen + 1
    with pytest.raises(Conflict):
        household_update(household=first, by=personas[Role.GRID_LEADER], version=seen, members=4)
