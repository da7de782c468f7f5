"""A demand waiting for its verifier (核查) is unfinished everywhere outside the demands app: open in
Open311, counted open (not overdue) by the dashboards, followable by a neighbour, still a duplicate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.dashboards.facts import demand_rows
from wangge.dashboards.measures import demand_facts
from wangge.demands import services
from wangge.demands.models import Demand, State
from wangge.demands.testing import make_category, make_demand
from wangge.open311 import selectors as open311

pytestmark = pytest.mark.django_db


@pytest.fixture
def verifying(tree: Any, personas: Any) -> Demand:
    d = make_demand(grid=tree.grid, category=make_category(needs_verification=True))
    d = services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="已处理")
    assert d.state == State.VERIFYING
    return d


def test_open311_calls_it_open_until_verified(verifying: Demand, personas: Any) -> None:
    assert open311.status_of(verifying) == "open"
    assert "待现场核查" in open311.status_notes(verifying)
    assert open311.request_out(verifying, public=True)["status"] == "open"
    verified = services.demand_verify(
        demand=verifying, actor=make_supervisor(verifying), photos=[jpeg()], note="现场核实"
    )
    assert open311.status_of(verified) == "closed"


def test_the_dashboards_count_it_open_and_never_overdue(verifying: Demand) -> None:
    with time_machine.travel(clock.now() + dt.timedelta(days=60), tick=False):
        [(row, _category, _department)] = list(demand_rows(Demand.objects.filter(pk=verifying.pk)))
        facts = demand_facts(row, clock.now())
    assert (facts["open"], facts["overdue"], facts["resolved"]) == (1, 0, 0)


def test_a_neighbour_may_follow_it(verifying: Demand) -> None:
    follower = services.demand_follow(demand=verifying, phone="13900009999")
    assert follower.demand_id == verifying.pk


def make_supervisor(demand: Demand) -> Any:
    from wangge.registry.testing import make_user

    return make_user(role=Role.SUPERVISOR, areas=[demand.area])


def jpeg() -> Any:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 0)).save(buf, format="JPEG")
    return SimpleUploadedFile("site.jpg", buf.getvalue(), content_type="image/jpeg")
