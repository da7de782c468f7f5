"""Every message to a resident carries a short link (/t/<code>) that opens their own tracking page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.core.links import SHORT_LENGTH, short_url
from wangge.demands import services
from wangge.demands.models import Demand, DemandFollower
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

BASE = "https://wangge.liuyang.example"
REPORTER = "13900000001"
NEIGHBOUR = "13900000002"
OTHER = "13900000003"
LINK_RE = re.compile(re.escape(BASE) + r"(/t/[0-9a-z]+)")


@pytest.fixture(autouse=True)
def _base(settings: Any) -> Any:
    settings.WANGGE_PUBLIC_BASE_URL = BASE
    settings.WANGGE_SHORT_LINK_RATE = "100/h"
    cache.clear()
    yield
    cache.clear()


def _resident_messages() -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(kind__startswith="demand.resident.")
        | OutboxMessage.objects.filter(kind__startswith="demand.follower.")
    )


def _opens(link_path: str) -> str:
    """Where the short link leads (the redirect target), after checking that page answers."""
    resp = Client().get(link_path)
    assert resp.status_code == 302 and "private" in resp["Cache-Control"]
    assert Client().get(resp["Location"]).status_code == 200
    return str(resp["Location"])


def test_every_resident_and_follower_message_carries_a_link_to_their_own_page(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    first = make_demand(grid=tree.grid, reporter_phone=REPORTER)  # registered
    services.demand_follow(demand=first, phone=NEIGHBOUR)  # followed
    dup = make_demand(grid=tree.grid, reporter_phone=OTHER)
    services.demand_follow(demand=dup, phone="13900000004")
    services.demand_merge(demand=dup, actor=leader, into=first)  # merged (reporter and follower)
    first = services.demand_accept(demand=first, actor=leader)  # accepted
    first = services.demand_resolve(demand=first, actor=leader, result="已修复")  # resolved, please rate
    services.demand_rate(demand=first, satisfaction="unsatisfied", reason="还是不亮", token=first.tracking_token)
    rejected = make_demand(grid=tree.grid, reporter_phone="13900000005")
    services.demand_reject(demand=rejected, actor=leader, reason="不属于本网格")

    messages = _resident_messages()
    kinds = {m.kind for m in messages}
    assert kinds >= {
        "demand.resident.submitted",
        "demand.resident.accepted",
        "demand.resident.resolved",
        "demand.resident.reopened",
        "demand.resident.merged",
        "demand.resident.rejected",
        "demand.follower.followed",
        "demand.follower.merged",
        "demand.follower.resolved",
    }
    for message in messages:
        found = LINK_RE.search(message.body)
        assert found, f"{message.kind} to {message.recipient} has no link: {message.body}"
        assert len(found.group(0)) < 70 and message.body.endswith(found.group(0))
        target = _opens(found.group(1))
        demand = Demand.objects.get(pk=message.payload["demand_id"])
        if message.recipient == demand.reporter_phone:
            assert target == reverse("demands:track", args=[demand.tracking_token])
        else:
            follower = DemandFollower.objects.get(demand=demand, phone=message.recipient)
            assert target == reverse("demands:follow_track", args=[follower.token])


def test_short_codes_are_short_unique_and_unknown_ones_answer_404(tree: Any) -> None:
    a, b = make_demand(grid=tree.grid), make_demand(grid=tree.grid)
    assert len(a.short_code) == SHORT_LENGTH and a.short_code != b.short_code
    # Services write the link without the resolver (they also run under the API's urlconf): same path.
    assert short_url(a.short_code) == f"{BASE}{reverse('links:demand', args=[a.short_code])}"
    # With a long production address the whole link still fits comfortably in one SMS.
    assert len("https://wangge.liuyang.gov.cn" + reverse("links:demand", args=[a.short_code])) < 70
    assert Client().get(reverse("links:demand", args=["0000000000"])).status_code == 404
    assert (
        Client()
        .get(reverse("links:demand", args=[a.short_code.upper()]))["Location"]
        .endswith(reverse("demands:track", args=[a.tracking_token]))
    )


def test_short_links_are_rate_limited_per_ip(tree: Any, settings: Any) -> None:
    settings.WANGGE_SHORT_LINK_RATE = "2/h"
    demand = make_demand(grid=tree.grid)
    client = Client()
    for _ in range(2):
        assert client.get(reverse("links:demand", args=[demand.short_code])).status_code == 302
    assert client.get(reverse("links:demand", args=[demand.short_code])).status_code == 429
