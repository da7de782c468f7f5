"""Every unmasked view of a reporter's phone is written to the personal-data log, whichever page shows it
(issue 15, item 13: the demand page used to write only a log line, the console the table)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.dashboards.models import PiiAccessLog
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.django_db


def page(user: Any, name: str, pk: int) -> str:
    client = Client()
    client.force_login(user)
    resp = client.get(reverse(name, args=[pk]))
    assert resp.status_code == 200
    return resp.content.decode()


@pytest.mark.parametrize("name", ["demands:detail", "dashboards:console_demand"])
def test_the_holder_sees_the_phone_and_each_view_is_one_row(tree: Any, personas: Any, name: str) -> None:
    demand = make_demand(grid=tree.grid)
    leader = personas[Role.GRID_LEADER]
    assert "13900001234" in page(leader, name, demand.pk)
    assert "13900001234" in page(leader, name, demand.pk)
    rows = PiiAccessLog.objects.filter(user=leader, demand=demand)
    assert rows.count() == 2 and all(demand.code in r.what for r in rows)


@pytest.mark.parametrize("name", ["demands:detail", "dashboards:console_demand"])
def test_who_does_not_call_back_sees_it_masked_and_nothing_is_logged(tree: Any, personas: Any, name: str) -> None:
    demand = make_demand(grid=tree.grid)
    body = page(personas[Role.VILLAGE], name, demand.pk)
    assert "139****1234" in body and "13900001234" not in body
    assert not PiiAccessLog.objects.exists()


def test_without_a_recorder_the_phone_stays_masked(tree: Any, personas: Any, settings: Any) -> None:
    settings.WANGGE_PII_LOG = ""
    demand = make_demand(grid=tree.grid)
    body = page(personas[Role.GRID_LEADER], "demands:detail", demand.pk)
    assert "13900001234" not in body and "139****1234" in body
