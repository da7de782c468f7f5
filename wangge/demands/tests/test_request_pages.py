"""延期 and 挂起 on the staff pages (Django client) and through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.accounts.services import api_token_create
from wangge.demands import services
from wangge.demands.models import Demand, DemandRequest, RequestState, State
from wangge.demands.testing import make_demand
from wangge.holidays.workdays import is_workday

pytestmark = pytest.mark.django_db


def in_hand(tree: Any, personas: Any) -> Demand:
    d = make_demand(grid=tree.grid)
    return services.demand_accept(demand=d, actor=personas[Role.GRID_LEADER])


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user: Any) -> Client:
    _token, raw = api_token_create(user=user, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def later_date(d: Demand, days: int = 20) -> dt.date:
    """A working day on the county's calendar well after the current deadline."""
    assert d.resolve_due_at is not None
    day = d.resolve_due_at.date() + dt.timedelta(days=days)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


# --- pages --------------------------------------------------------------------------------


def test_the_holder_asks_for_more_time_and_the_branch_approves_on_the_page(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    leader = client_for(personas[Role.GRID_LEADER])
    page = leader.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'data-testid="move-extend"' in page and 'data-testid="move-suspend"' in page
    until = later_date(d)
    resp = leader.post(
        reverse("demands:request", args=[d.pk, "extend"]),
        {"extend-version": d.version, "extend-reason": "等待变压器到货", "extend-until": until.isoformat()},
    )
    assert resp.status_code == 302
    request = DemandRequest.objects.get(demand=d)
    branch = client_for(personas[Role.BRANCH])
    queue = branch.get(reverse("demands:requests")).content.decode()
    assert d.code in queue and "等待变压器到货" in queue
    home = branch.get(reverse("core:home")).content.decode()
    assert 'data-testid="to-decide"' in home
    detail = branch.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'data-testid="decide"' in detail and 'data-testid="move-extend"' not in detail
    resp = branch.post(reverse("demands:decide", args=[d.pk]), {"decide-decision": "approve", "decide-note": ""})
    assert resp.status_code == 302
    request.refresh_from_db()
    d.refresh_from_db()
    assert request.state == RequestState.APPROVED and d.extensions == 1
    page = leader.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert until.isoformat() in page and 'data-action="extend_approve"' in page
    assert d.code not in branch.get(reverse("demands:requests")).content.decode()


def test_errors_are_shown_next_to_their_fields(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    leader = client_for(personas[Role.GRID_LEADER])
    too_early = d.resolve_due_at.date() - dt.timedelta(days=1)
    resp = leader.post(
        reverse("demands:request", args=[d.pk, "extend"]),
        {"extend-version": d.version, "extend-reason": "等", "extend-until": too_early.isoformat()},
    )
    assert resp.status_code == 400
    assert 'data-testid="error-until"' in resp.content.decode()
    resp = leader.post(reverse("demands:request", args=[d.pk, "suspend"]), {"suspend-version": d.version})
    assert resp.status_code == 400 and 'data-testid="error-reason"' in resp.content.decode()
    services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等天气")
    branch = client_for(personas[Role.BRANCH])
    resp = branch.post(reverse("demands:decide", args=[d.pk]), {"decide-decision": "refuse", "decide-note": ""})
    assert resp.status_code == 400 and 'data-testid="error-note"' in resp.content.decode()
    assert DemandRequest.objects.get(demand=d).state == RequestState.PENDING


def test_a_suspended_demand_shows_its_reason_and_resumes_by_hand(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    request = services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等法院判决")
    services.demand_suspension_decide(request=request, actor=personas[Role.BRANCH], approve=True)
    d.refresh_from_db()
    leader = client_for(personas[Role.GRID_LEADER])
    page = leader.get(reverse("demands:detail", args=[d.pk])).content.decode()
    assert 'data-testid="suspended"' in page and "等法院判决" in page and 'data-testid="move-resume"' in page
    # Still in the holder's queue, marked suspended.
    assert d.code in leader.get(reverse("demands:list")).content.decode()
    resp = leader.post(reverse("demands:request", args=[d.pk, "resume"]), {"resume-version": d.version})
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.state == State.IN_PROGRESS


def test_someone_else_cannot_ask_or_decide(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    resp = client_for(personas[Role.BRANCH]).post(
        reverse("demands:request", args=[d.pk, "extend"]),
        {"extend-version": d.version, "extend-reason": "等", "extend-until": later_date(d).isoformat()},
    )
    assert resp.status_code == 403
    services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等")
    resp = client_for(personas[Role.GRID_LEADER]).post(
        reverse("demands:decide", args=[d.pk]), {"decide-decision": "approve"}
    )
    assert resp.status_code == 403
    resp = client_for(personas["outsider"]).post(reverse("demands:decide", args=[d.pk]), {"decide-decision": "approve"})
    assert resp.status_code == 404
    assert DemandRequest.objects.get(demand=d).state == RequestState.PENDING


# --- API ----------------------------------------------------------------------------------


def test_the_api_asks_decides_and_lists_what_awaits_a_decision(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    leader, branch = api_for(personas[Role.GRID_LEADER]), api_for(personas[Role.BRANCH])
    until = later_date(d)
    resp = leader.post(
        f"/api/v1/demands/{d.pk}/extend",
        {"reason": "等材料", "until": until.isoformat(), "version": d.version},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["state"] == "pending" and resp.json()["kind"] == "extension"
    listed = branch.get("/api/v1/demand-requests").json()["items"]
    assert [r["demand_code"] for r in listed] == [d.code]
    assert leader.get("/api/v1/demand-requests").json()["items"] == []
    resp = branch.post(f"/api/v1/demands/{d.pk}/extension/decide", {}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "approve"
    resp = branch.post(f"/api/v1/demands/{d.pk}/extension/decide", {"approve": True}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["state"] == "approved"
    resp = branch.post(
        f"/api/v1/demands/{d.pk}/extension/decide", {"approve": False, "note": "晚了"}, content_type="application/json"
    )
    assert resp.status_code == 409


def test_the_api_suspends_and_resumes(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    leader, branch = api_for(personas[Role.GRID_LEADER]), api_for(personas[Role.BRANCH])
    resp = leader.post(f"/api/v1/demands/{d.pk}/suspend", {"reason": ""}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "reason"
    resp = leader.post(f"/api/v1/demands/{d.pk}/suspend", {"reason": "等预算"}, content_type="application/json")
    assert resp.status_code == 201
    resp = leader.post(f"/api/v1/demands/{d.pk}/suspension/decide", {"approve": True}, content_type="application/json")
    assert resp.status_code == 403
    resp = branch.post(f"/api/v1/demands/{d.pk}/suspension/decide", {"approve": True}, content_type="application/json")
    assert resp.status_code == 200
    assert leader.get(f"/api/v1/demands/{d.pk}").json()["state"] == "suspended"
    resp = leader.post(f"/api/v1/demands/{d.pk}/resume", {}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["state"] == "in_progress"


def test_the_admin_lists_requests_read_only(tree: Any, personas: Any) -> None:
    from django.contrib.auth import get_user_model

    d = in_hand(tree, personas)
    made = services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等预算")
    root = get_user_model().objects.create_superuser(username="root", password="x-123456789")
    client = client_for(root)
    listing = client.get(reverse("admin:demands_demandrequest_changelist"))
    assert listing.status_code == 200 and d.code in listing.content.decode()
    assert client.get(reverse("admin:demands_demandrequest_add")).status_code == 403
    page = client.get(reverse("admin:demands_demandrequest_change", args=[made.pk])).content.decode()
    assert "等预算" in page and 'name="reason"' not in page  # shown, not editable
