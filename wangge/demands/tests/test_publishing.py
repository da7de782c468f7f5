"""Moderation (公开审核): the publish/unpublish services, who may decide, and the one-click queue page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from wangge.accounts.models import Role
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.demands import permissions, services
from wangge.demands.models import Demand, DemandEvent
from wangge.demands.public import moderation_queue, public_view
from wangge.demands.testing import make_demand
from wangge.demands.transitions import move_label

pytestmark = pytest.mark.django_db

WORDS = "我叫赵铁柱，电话13877776666，金沙北路128号3栋楼下井盖丢了"


def _demand(tree: Any, **kw: Any) -> Demand:
    return make_demand(grid=tree.grid, category="0101", reporter_name="赵铁柱", description=WORDS, **kw)


def test_approve_and_withdraw_leave_staff_only_notes(tree: Any, personas: Any) -> None:
    demand = _demand(tree)
    town = personas[Role.TOWN]
    services.demand_publish_approve(demand=demand, actor=town, text="  金沙北路一处井盖丢失  ")
    fresh = Demand.objects.get(pk=demand.pk)
    assert fresh.public_text == "金沙北路一处井盖丢失" and fresh.public_approved_by == town
    assert fresh.public_approved_at is not None and fresh.version == demand.version  # not a move
    services.demand_publish_withdraw(demand=demand, actor=personas[Role.CITY_ADMIN])
    fresh = Demand.objects.get(pk=demand.pk)
    assert fresh.public_text == "" and fresh.public_approved_by == personas[Role.CITY_ADMIN]
    events = list(DemandEvent.objects.filter(demand=demand, action__in=["publish", "unpublish"]).order_by("id"))
    assert [(e.action, e.is_public) for e in events] == [("publish", False), ("unpublish", False)]
    assert events[0].note == "公开内容：金沙北路一处井盖丢失"
    with translation.override("zh-hans"):
        assert (str(move_label("publish")), str(move_label("unpublish"))) == ("公开内容已批准", "不公开")


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.DEPARTMENT, Role.AUDITOR])
def test_only_town_staff_and_city_administrators_decide(tree: Any, personas: Any, role: str) -> None:
    demand = _demand(tree)
    user = personas[role]
    assert not permissions.can_moderate(demand=demand, user=user)
    with pytest.raises((PermissionDenied, NotFound)):
        services.demand_publish_approve(demand=demand, actor=user, text="x")
    with pytest.raises((PermissionDenied, NotFound)):
        services.demand_publish_withdraw(demand=demand, actor=user)
    assert Demand.objects.get(pk=demand.pk).public_approved_at is None


def test_the_outsider_town_cannot_decide_and_reports_are_never_published(tree: Any, personas: Any) -> None:
    demand = _demand(tree)
    with pytest.raises(NotFound):
        services.demand_publish_approve(demand=demand, actor=personas["outsider"], text="x")
    report = _demand(tree, kind="report")
    with pytest.raises(ValidationFailed) as caught:
        services.demand_publish_approve(demand=report, actor=personas[Role.TOWN], text="x")
    assert caught.value.zh == "举报类和要求保密的诉求一律不公开"
    with pytest.raises(ValidationFailed):
        services.demand_publish_approve(demand=demand, actor=personas[Role.TOWN], text="   ")


def test_the_queue_is_scoped_and_split_by_decision(tree: Any, personas: Any) -> None:
    inside, outside = _demand(tree), make_demand(grid=tree.other_grid)
    report = _demand(tree, kind="report")
    town = personas[Role.TOWN]
    assert list(moderation_queue(user=town)) == [inside]  # not the other town's, never a report
    assert list(moderation_queue(user=personas["outsider"])) == [outside]
    assert set(moderation_queue(user=personas[Role.AUDITOR])) == {inside, outside}
    assert not moderation_queue(user=personas[Role.GRID_LEADER]).exists()
    assert report not in moderation_queue(user=personas[Role.CITY_ADMIN], status="any")
    services.demand_publish_approve(demand=inside, actor=town, text="井盖丢失")
    assert not moderation_queue(user=town).exists()
    assert list(moderation_queue(user=town, status="published")) == [inside]
    services.demand_publish_withdraw(demand=inside, actor=town)
    assert list(moderation_queue(user=town, status="withheld")) == [inside]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_one_click_in_the_queue_publishes_the_redacted_words(tree: Any, personas: Any) -> None:
    demand = _demand(tree)
    client = _client(personas[Role.TOWN])
    page = client.get(reverse("demands:publishing")).content.decode()
    row = page.split(f'data-code="{demand.code}"')[1].split("</article>")[0]
    prefilled = row.split('data-testid="public-text">')[1].split("</textarea>")[0]
    assert prefilled == "我叫**，电话**，金沙北路**楼下井盖丢了"
    assert 'data-testid="approve"' in row and "批准公开" in row and "不公开" in row
    assert "反映了一件「道路破损」类诉求" in row  # what the public reads until someone decides
    resp = client.post(
        reverse("demands:publishing"), {"demand": demand.pk, "do": "approve", "text": prefilled}, follow=True
    )
    assert resp.status_code == 200 and "已批准公开" in resp.content.decode()
    assert public_view(Demand.objects.get(pk=demand.pk)).description == prefilled
    published = client.get(reverse("demands:publishing") + "?status=published").content.decode()
    assert demand.code in published
    client.post(reverse("demands:publishing") + "?status=published", {"demand": demand.pk, "do": "withhold"})
    assert public_view(Demand.objects.get(pk=demand.pk)).source == "neutral"


def test_an_edited_text_and_an_empty_one(tree: Any, personas: Any) -> None:
    demand = _demand(tree)
    client = _client(personas[Role.CITY_ADMIN])
    client.post(reverse("demands:publishing"), {"demand": demand.pk, "do": "approve", "text": "金沙北路井盖丢失"})
    assert Demand.objects.get(pk=demand.pk).public_text == "金沙北路井盖丢失"
    other = _demand(tree)
    resp = client.post(reverse("demands:publishing"), {"demand": other.pk, "do": "approve", "text": " "}, follow=True)
    assert "公开内容" in resp.content.decode() and Demand.objects.get(pk=other.pk).public_approved_at is None


def test_auditors_read_the_queue_without_buttons_and_others_are_refused(tree: Any, personas: Any) -> None:
    demand = _demand(tree)
    auditor = _client(personas[Role.AUDITOR])
    page = auditor.get(reverse("demands:publishing")).content.decode()
    assert demand.code in page and 'data-testid="approve"' not in page and 'data-testid="proposed"' in page
    resp = auditor.post(reverse("demands:publishing"), {"demand": demand.pk, "do": "approve", "text": "x"})
    assert resp.status_code == 403 and Demand.objects.get(pk=demand.pk).public_approved_at is None
    for role in (Role.GRID_LEADER, Role.VILLAGE, Role.DEPARTMENT):
        assert _client(personas[role]).get(reverse("demands:publishing")).status_code == 403
    outsider = _client(personas["outsider"])
    assert demand.code not in outsider.get(reverse("demands:publishing")).content.decode()
    resp = outsider.post(reverse("demands:publishing"), {"demand": demand.pk, "do": "approve", "text": "x"})
    assert resp.status_code == 404 and Demand.objects.get(pk=demand.pk).public_approved_at is None
    assert Client().get(reverse("demands:publishing")).status_code == 302  # to the login page
