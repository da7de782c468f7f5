"""A visit updates the register in the same form, through the register's one writer (`household_update`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core.errors import Conflict
from wangge.registry.models import ChangeKind, Household, HouseholdChange
from wangge.registry.services import household_update
from wangge.registry.testing import make_household
from wangge.visits.models import Visit
from wangge.visits.services import RegisterDraft, visit_log

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_visit_form_ticks_tags_and_marks_moved_out(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, care_tags=["low_income"])
    client = client_for(personas[Role.GRID_LEADER])
    page = client.get(reverse("visits:new") + f"?household={h.pk}").content.decode()
    assert 'data-testid="register"' in page and f'name="register_version" value="{h.version}"' in page
    resp = client.post(
        reverse("visits:new"),
        {
            "household": h.pk,
            "how": "in_person",
            "notes": "老人独居",
            "register_version": h.version,
            "care_tags": ["elderly_alone"],  # low income unticked
            "moved_out": "on",
            "idempotency_key": str(uuid.uuid4()),
        },
    )
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.care_tags == ",elderly_alone," and h.moved_out and h.version == 2
    change = HouseholdChange.objects.get(household=h)
    assert change.kind == ChangeKind.VISIT and change.changed_by == personas[Role.GRID_LEADER]
    assert {line["field"] for line in change.fields} == {"care_tags", "moved_out"}
    assert Visit.objects.filter(household=h).count() == 1


def test_a_visit_without_the_register_part_leaves_it(tree: Any, personas: Any) -> None:
    h = make_household(grid=tree.grid, care_tags=["low_income"])
    resp = client_for(personas[Role.GRID_LEADER]).post(
        reverse("visits:new"), {"household": h.pk, "how": "phone", "idempotency_key": str(uuid.uuid4())}
    )
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.care_tags == ",low_income," and h.version == 1 and not HouseholdChange.objects.exists()


def test_a_stale_register_refuses_the_whole_visit(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    h = make_household(grid=tree.grid)
    household_update(household=h, by=personas[Role.VILLAGE], version=h.version, members=6)
    with pytest.raises(Conflict):
        visit_log(visitor=leader, household=h, notes="x", register=RegisterDraft(version=1, moved_out=True))
    assert not Visit.objects.exists()
    assert not Household.objects.get(pk=h.pk).moved_out
    resp = client_for(leader).post(
        reverse("visits:new"),
        {"household": h.pk, "how": "phone", "register_version": 1, "moved_out": "on", "idempotency_key": "k1"},
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Someone else changed this household" in body and "其他人" in body
    assert not Visit.objects.exists()
