"""A whistleblower's report (举报) is never offered as a possible duplicate, nor followed, outside its holders.

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
from wangge.demands.models import DemandFollower, Kind
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


def report(tree: Any, kind: str) -> Any:
    return make_demand(grid=tree.grid, kind=kind, title=f.make_title(WORDS), description=WORDS)


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


def test_a_report_is_not_offered_to_an_anonymous_visitor_but_a_complaint_is(tree: Any) -> None:
    secret = report(tree, Kind.REPORT)
    resp = post(tree)
    assert resp.status_code == 302  # nothing offered: the visitor's own demand is filed at once
    assert secret.code not in resp.content.decode()

    complaint = report(tree, Kind.COMPLAINT)
    body = post(tree).content.decode()
    assert complaint.code in body and secret.code not in body


def test_a_report_cannot_be_followed_even_with_a_validly_signed_offer(tree: Any) -> None:
    secret = report(tree, Kind.REPORT)
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
