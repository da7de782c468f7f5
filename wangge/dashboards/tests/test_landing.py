"""The staff landing page (core:home): each role lands on its queue, and each count links to its list.

Wednesday 11 March 2026, 12:00 Shanghai time. The category gives urgent demands one calendar hour
to accept and four to resolve; normal ones eight working hours to accept and 48 to resolve.

- A (village, urgent, 09:00): waiting past its limit to accept (10:00): new, overdue, urgent.
- B (village, urgent, 11:30): waiting, due 12:30: new, due within 4 h, urgent.
- C (village, normal, 11:00): waiting, due tomorrow: new.
- D (grid, urgent, 11:45): escalated by the grid and the branch to the village, due 12:55:
  new, due within 4 h, urgent, escalated to the village.
- E (village, normal, 10:00): accepted by the village at 10:30: only "all I hold".
- G (grid, urgent, 11:00): held by the grid: not the village's.
- H (village, normal, 11:10): dispatched to the department: the department's, not the village's.
- F (the other town, urgent): nobody's here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.dashboards import landing
from wangge.demands import services
from wangge.demands.sla import LOCAL_TZ
from wangge.demands.testing import make_category, make_demand

NOW = dt.datetime(2026, 3, 11, 12, 0, tzinfo=LOCAL_TZ)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return NOW.replace(hour=hour, minute=minute)


@pytest.fixture
def queue(tree: Any, personas: Any) -> dict[str, Any]:
    category = make_category(
        accept_hours_urgent=1, resolve_value_urgent=4, resolve_value_normal=48, resolve_unit="hours", name="路灯测试"
    )
    grid, branch, village = personas[Role.GRID_LEADER], personas[Role.BRANCH], personas[Role.VILLAGE]
    d: dict[str, Any] = {}

    def new(name: str, when: dt.datetime, **kw: Any) -> None:
        with time_machine.travel(when, tick=False):
            d[name] = make_demand(category=category, title=f"队列{name}", **kw)

    def do(when: dt.datetime, func: Any, name: str, **kw: Any) -> None:
        with time_machine.travel(when, tick=False):
            d[name] = func(demand=d[name], **kw)

    new("A", at(9), area=tree.village, urgency="urgent")
    new("E", at(10), area=tree.village)
    do(at(10, 30), services.demand_accept, "E", actor=village)
    new("C", at(11), area=tree.village)
    new("G", at(11), grid=tree.grid, urgency="urgent")
    new("H", at(11, 10), area=tree.village)
    do(at(11, 15), services.demand_dispatch, "H", actor=village, department=tree.department)
    new("B", at(11, 30), area=tree.village, urgency="urgent")
    new("D", at(11, 45), grid=tree.grid, urgency="urgent")
    do(at(11, 50), services.demand_escalate, "D", actor=grid, reason="需要支部协调")
    do(at(11, 55), services.demand_escalate, "D", actor=branch, reason="报村")
    new("F", at(11), grid=tree.other_grid, urgency="urgent")
    return d


@pytest.fixture
def now() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def counts(html: str) -> dict[str, tuple[int, str]]:
    found = re.findall(r'href="([^"]+)" data-testid="count-(\w+)" data-count="(\d+)"', html)
    return {key: (int(n), url.replace("&amp;", "&")) for url, key, n in found}


def console_codes(client: Client, url: str) -> set[str]:
    resp = client.get(url)
    assert resp.status_code == 200
    return set(re.findall(r'<tr data-code="([^"]+)"', resp.content.decode()))


@pytest.mark.django_db
def test_village_lands_on_its_queue_and_each_count_lists_the_same_demands(
    queue: dict[str, Any], personas: Any, now: Any
) -> None:
    client = client_for(personas[Role.VILLAGE])
    resp = client.get(reverse("core:home"))
    assert resp.status_code == 200
    html = resp.content.decode()
    found = counts(html)
    expected = {
        "new": {"A", "B", "C", "D"},
        "overdue": {"A"},
        "due_soon": {"B", "D"},
        "urgent": {"A", "B", "D"},
        "escalated": {"D"},
        "open": {"A", "B", "C", "D", "E"},
    }
    assert list(found) == list(expected)  # the order a person reads them in
    for key, names in expected.items():
        number, url = found[key]
        assert number == len(names), key
        # The link opens the console on exactly the demands counted.
        assert console_codes(client, url) == {queue[n].code for n in names}, key
    # Most pressing first: the longest overdue, then the soonest due; each with a link to act on it.
    top = re.findall(r'<li data-code="([^"]+)"', html)
    assert top[:3] == [queue["A"].code, queue["B"].code, queue["D"].code]
    assert set(top) == {queue[n].code for n in expected["open"]}
    assert reverse("demands:detail", args=[queue["A"].pk]) in html
    assert 'data-testid="late"' in html and "超" in html  # Chinese first


@pytest.mark.django_db
def test_department_lands_on_its_departments_queue(queue: dict[str, Any], personas: Any, now: Any) -> None:
    client = client_for(personas[Role.DEPARTMENT])
    found = counts(client.get(reverse("core:home")).content.decode())
    assert found["open"][0] == 1 and found["new"][0] == 1 and found["escalated"][0] == 0
    assert console_codes(client, found["new"][1]) == {queue["H"].code}


@pytest.mark.django_db
def test_a_level_with_nothing_held_says_so_and_the_auditor_has_no_queue(
    queue: dict[str, Any], personas: Any, now: Any
) -> None:
    html = client_for(personas[Role.TOWN]).get(reverse("core:home")).content.decode()
    assert all(n == 0 for n, _url in counts(html).values()) and 'data-testid="queue-empty"' in html
    html = client_for(personas[Role.AUDITOR]).get(reverse("core:home")).content.decode()
    assert 'data-testid="queue"' not in html


@pytest.mark.django_db
def test_the_grid_leader_still_lands_on_the_workbench(personas: Any) -> None:
    resp = client_for(personas[Role.GRID_LEADER]).get(reverse("core:home"))
    assert resp.status_code == 302 and resp["Location"] == reverse("visits:workbench")


@pytest.mark.django_db
def test_the_landing_page_costs_a_fixed_number_of_queries(
    queue: dict[str, Any], tree: Any, personas: Any, now: Any, django_assert_max_num_queries: Any
) -> None:
    village = personas[Role.VILLAGE]
    client = client_for(village)
    client.get(reverse("core:home"))  # warm the session and the categories cache, if any
    # 7: the counts, the top items, and the requests awaiting the user's decision (待审批), whatever the numbers.
    with django_assert_max_num_queries(7):
        client.get(reverse("core:home"))
    with time_machine.travel(at(11, 58), tick=False):
        for _i in range(8):
            make_demand(area=tree.village, urgency="urgent")
    with django_assert_max_num_queries(7):
        html = client.get(reverse("core:home")).content.decode()
    assert counts(html)["open"][0] == 13
    assert len(re.findall(r'<li data-code="', html)) == landing.TOP_ITEMS
