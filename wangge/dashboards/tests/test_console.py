"""The service-centre console: the queue and its filters, search, batch dispatch, the live reply."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.dashboards import services
from wangge.dashboards.models import PiiAccessLog
from wangge.demands import services as demand_services
from wangge.demands.models import Demand, DemandComment, State
from wangge.demands.testing import make_demand


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def codes(html: str) -> set[str]:
    return set(re.findall(r'<tr data-code="([^"]+)"', html))


def console(client: Client, **params: str) -> str:
    resp = client.get(reverse("dashboards:console"), params)
    assert resp.status_code == 200
    return resp.content.decode()


@pytest.mark.django_db
def test_queue_filters_and_search(story: Any, now: Any) -> None:
    d = story.d
    town = client_for(story.personas[Role.TOWN])
    # The queue: open demands held at the town or below (D10 is with a department the village sent it to).
    assert codes(console(town)) == {d["D7"].code, d["D10"].code, d["D11"].code}
    assert codes(console(town, view="mine")) == set()
    everything = codes(console(town, view="all"))
    assert d["D5"].code not in everything and len(everything) == 10  # D5 is the other town's
    assert codes(console(town, view="all", state="submitted")) == {d["D11"].code}
    assert codes(console(town, view="all", overdue="1")) == {d["D7"].code, d["D10"].code}
    assert codes(console(town, view="all", area=str(story.tree.village.pk), state="merged")) == {d["D8"].code}
    assert codes(console(town, view="all", date_from="2026-03-12", date_to="2026-03-13")) == {
        d["D10"].code,
        d["D11"].code,
    }
    assert codes(console(town, view="all", channel="hotline")) == set()
    # Search by code, by words, by an exact phone (a part of a number finds nothing).
    assert codes(console(town, view="all", q=d["D1"].code)) == {d["D1"].code}
    assert codes(console(town, view="all", q="故事D7")) == {d["D7"].code}
    by_phone = console(town, view="all", q="13900001234")
    assert codes(by_phone) == everything
    table = re.search(r'data-testid="console-table".*?</table>', by_phone, re.S).group(0)
    assert "139****1234" in table and "13900001234" not in table  # what was typed shows only in the search box
    assert codes(console(town, view="all", q="1390000")) == set()
    # The other town's staff find nothing of ours, even by phone.
    outsider = client_for(story.personas["outsider"])
    assert codes(console(outsider, view="all", q="13900001234")) == {d["D5"].code}


@pytest.mark.django_db
def test_console_list_runs_a_fixed_number_of_queries(tree: Any, personas: Any) -> None:
    for _ in range(25):
        make_demand(grid=tree.grid)
    town = client_for(personas[Role.TOWN])
    counts = []
    for size in ("5", "25"):
        town.get(reverse("dashboards:console"), {"view": "all", "size": size})  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            html = console(town, view="all", size=size)
        assert len(codes(html)) == int(size)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_console_list_query_budget(tree: Any, personas: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(40):
        make_demand(grid=tree.grid)
    town = client_for(personas[Role.TOWN])
    town.get(reverse("dashboards:console"))
    with django_assert_max_num_queries(12):
        html = console(town, view="all", size="40")
    assert len(codes(html)) == 40


@pytest.mark.django_db
def test_town_batch_dispatch_reports_each_demand(tree: Any, personas: Any) -> None:
    town_user = personas[Role.TOWN]
    mine = [make_demand(area=tree.town, title=f"镇级{i}") for i in range(3)]
    stale = mine[2]
    demand_services.demand_accept(demand=stale, actor=town_user)  # its version moves on after the page was shown
    outside = make_demand(grid=tree.other_grid)
    town = client_for(town_user)
    picks = [f"{mine[0].pk}:{mine[0].version}", f"{mine[1].pk}:{mine[1].version}", f"{stale.pk}:1", f"{outside.pk}:1"]
    resp = town.post(reverse("dashboards:console"), {"pick": picks, "department": tree.department.pk, "note": "请处理"})
    html = resp.content.decode()
    assert resp.status_code == 200
    results = re.findall(r'data-ok="(\d)">([^<]*)', html)
    assert [ok for ok, _t in results] == ["1", "1", "0", "0"]
    assert "诉求已被他人更新" in results[2][1] and "找不到该诉求" in results[3][1]
    for demand in mine[:2]:
        demand.refresh_from_db()
        assert demand.holder_department == tree.department and demand.state == State.ESCALATED
        assert demand.events.filter(action="dispatch").count() == 1
    stale.refresh_from_db()
    outside.refresh_from_db()
    assert stale.holder_department is None and outside.state == State.SUBMITTED


@pytest.mark.django_db
def test_batch_dispatch_refuses_nothing_chosen_and_non_holders(tree: Any, personas: Any) -> None:
    demand = make_demand(area=tree.town)
    with pytest.raises(Exception, match="请至少选择"):
        services.demands_batch_dispatch(actor=personas[Role.TOWN], items=[], department=tree.department)
    # The village sees the town's demand? No: it is above the village, so it is "not found" there.
    results = services.demands_batch_dispatch(
        actor=personas[Role.VILLAGE], items=[(demand.pk, None)], department=tree.department
    )
    assert not results[0].ok
    resp = client_for(personas[Role.TOWN]).post(reverse("dashboards:console"), {"department": tree.department.pk})
    assert resp.status_code == 400


@pytest.mark.django_db
def test_live_reply_and_the_residents_answers(tree: Any, personas: Any) -> None:
    demand = make_demand(area=tree.town)
    town = client_for(personas[Role.TOWN])
    page = town.get(reverse("dashboards:console_demand", args=[demand.pk])).content.decode()
    # The holder sees the number to call back, and that view is logged.
    assert "13900001234" in page
    assert PiiAccessLog.objects.filter(user=personas[Role.TOWN], demand=demand).count() == 1
    assert 'hx-trigger="every 4s"' in page
    resp = town.post(
        reverse("dashboards:console_reply", args=[demand.pk]),
        {"body": "您好，已安排人员今天下午上门"},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 200 and "已安排人员" in resp.content.decode()
    comment = DemandComment.objects.get(demand=demand)
    assert comment.visibility == "public" and not comment.by_resident
    track = Client().get(reverse("demands:track", args=[demand.tracking_token])).content.decode()
    assert "已安排人员今天下午上门" in track
    # The resident answers on the tracking page; the next poll of the console shows it.
    demand_services.demand_comment(demand=demand, body="好的，我下午在家", token=demand.tracking_token)
    poll = town.get(reverse("dashboards:console_comments", args=[demand.pk])).content.decode()
    assert "我下午在家" in poll and 'data-by="resident"' in poll and 'data-count="2"' in poll
    # An empty answer is refused with a message; GET is not a way to answer.
    bad = town.post(reverse("dashboards:console_reply", args=[demand.pk]), {"body": " "}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "留言不能为空" in bad.content.decode()
    assert town.get(reverse("dashboards:console_reply", args=[demand.pk])).status_code == 405


@pytest.mark.django_db
def test_console_detail_is_scoped_and_masks_for_non_holders(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid)
    town = client_for(personas[Role.TOWN])
    page = town.get(reverse("dashboards:console_demand", args=[demand.pk])).content.decode()
    assert "139****1234" in page and "13900001234" not in page  # the grid holds it, not the town
    assert 'data-testid="timeline"' in page and demand.code in page
    assert not PiiAccessLog.objects.exists()
    outsider = client_for(personas["outsider"])
    assert outsider.get(reverse("dashboards:console_demand", args=[demand.pk])).status_code == 404
    assert outsider.get(reverse("dashboards:console_comments", args=[demand.pk])).status_code == 404
    assert outsider.post(reverse("dashboards:console_reply", args=[demand.pk]), {"body": "x"}).status_code == 404
    assert not Demand.objects.get(pk=demand.pk).comments.exists()
