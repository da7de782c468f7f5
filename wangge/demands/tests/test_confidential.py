"""A whistleblower's report (举报), and any demand its reporter asked to keep confidential (保密), is never
offered as a possible duplicate, followed, published or listed in the public feed outside its holders.

Issue 15, item 3: an anonymous visitor typing the same words used to be offered the report and could follow it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core.errors import NotFound
from wangge.demands import forms as f
from wangge.demands import routing, selectors, services
from wangge.demands.models import Demand, DemandFollower, Kind
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.django_db

WORDS = "村会计挪用低保资金，账目对不上，请纪委来查。"
SAME = "村会计挪用了低保资金，账目对不上，希望来查一查。"


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WANGGE_REPORT_RATE = "100/h"
    settings.WANGGE_FOLLOW_RATE = "100/h"
    cache.clear()
    yield
    cache.clear()
    routing.clear_cache()


def report(tree: Any, kind: str, *, confidential: bool = False) -> Any:
    demand = make_demand(grid=tree.grid, kind=kind, title=f.make_title(WORDS), description=WORDS)
    if confidential:
        Demand.objects.filter(pk=demand.pk).update(confidential=True)
        demand.confidential = True
    return demand


# The two ways a demand stays with its holders: its kind, or the reporter's request.
SECRETS = pytest.mark.parametrize(("kind", "confidential"), [(Kind.REPORT, False), (Kind.COMPLAINT, True)])


def post(tree: Any, **extra: Any) -> Any:
    data = {
        "phone": "13912345678",
        "name": "王五",
        "description": SAME,
        "grid": tree.sibling_grid.code,
        "kind": "complaint",
        "idempotency_key": str(uuid.uuid4()),
    }
    return Client().post(reverse("demands:report"), {**data, **extra})


@SECRETS
def test_a_secret_is_not_offered_to_an_anonymous_visitor_but_a_complaint_is(
    tree: Any, kind: str, confidential: bool
) -> None:
    secret = report(tree, kind, confidential=confidential)
    resp = post(tree)
    assert resp.status_code == 302  # nothing offered: the visitor's own demand is filed at once
    assert secret.code not in resp.content.decode()

    complaint = report(tree, Kind.COMPLAINT)
    body = post(tree).content.decode()
    assert complaint.code in body and secret.code not in body


@SECRETS
def test_a_secret_cannot_be_followed_even_with_a_validly_signed_offer(tree: Any, kind: str, confidential: bool) -> None:
    secret = report(tree, kind, confidential=confidential)
    resp = post(tree, follow=f.follow_offer(secret.pk))
    assert resp.status_code == 404
    assert not DemandFollower.objects.exists()
    with pytest.raises(NotFound):
        services.demand_follow(demand=secret.pk, phone="13912345678")


def test_staff_are_offered_a_report_only_when_they_hold_it(tree: Any, personas: Any) -> None:
    secret = report(tree, Kind.REPORT)
    mine = make_demand(grid=tree.grid, kind=Kind.COMPLAINT, title=f.make_title(SAME), description=SAME)
    holder = personas[Role.GRID_LEADER]
    assert [o.demand for o in selectors.demand_duplicates(demand=mine, user=holder)] == [secret]
    # The village secretary sees the grid's demands but does not hold this report.
    village = personas[Role.VILLAGE]
    assert selectors.demand_duplicates(demand=mine, user=village) == []
    offers = selectors.intake_duplicates(title=f.make_title(SAME), description=SAME, grid=tree.grid)
    assert [o.demand for o in offers] == [mine]  # an anonymous resident: the complaint, never the report


def test_the_resident_page_files_a_confidential_demand_and_it_outweighs_consent(tree: Any) -> None:
    resp = post(tree, confidential="on", publish_consent="on")
    assert resp.status_code == 302, resp.content.decode()[:500]
    demand = Demand.objects.get()
    assert demand.confidential and not demand.publish_consent


def test_the_api_files_a_confidential_demand(tree: Any, personas: Any) -> None:
    from wangge.accounts.services import api_token_create

    _token, raw = api_token_create(user=personas[Role.GRID_LEADER], name="confidential")
    body = {"title": "楼道灯", "description": SAME, "grid": tree.grid.code, "confidential": True}
    resp = Client().post("/api/v1/demands", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert resp.status_code == 201, resp.content
    assert resp.json()["confidential"] is True and Demand.objects.get().confidential


@SECRETS
def test_a_secret_is_never_published_nor_in_the_public_feed_or_moderation_queue(
    tree: Any, personas: Any, kind: str, confidential: bool
) -> None:
    from wangge.core.errors import ValidationFailed
    from wangge.demands.public import moderation_queue

    secret = report(tree, kind, confidential=confidential)
    open_one = report(tree, Kind.COMPLAINT)
    town = personas[Role.TOWN]
    assert list(moderation_queue(user=town, status="any")) == [open_one]
    with pytest.raises(ValidationFailed):
        services.demand_publish_approve(demand=secret, actor=town, text="公开的文字")
    codes = {r["service_request_id"] for r in Client().get("/open311/v2/requests.json").json()}
    assert open_one.code in codes and secret.code not in codes
