"""Calling back (回访): who may, on which demands, and what each answer does to the demand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands import services
from wangge.demands.models import CallBack, Demand, DemandEvent, State
from wangge.demands.permissions import can_call_back
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def resolved(tree: Any, personas: Any, *, channel: str = "hotline") -> Demand:
    d = make_demand(grid=tree.grid.code, channel=channel)
    return services.demand_resolve(demand=d, actor=personas[Role.GRID_LEADER], result="路灯已修好")


def test_reached_satisfied_records_and_leaves_it_resolved(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    call = services.demand_call_back(
        demand=d, actor=personas[Role.BRANCH], reached=True, solved=True, satisfaction="basic", note="还行"
    )
    d.refresh_from_db()
    assert (call.reached, call.solved, call.satisfaction, call.by) == (True, True, "basic", personas[Role.BRANCH])
    assert d.state == State.RESOLVED and d.satisfaction is None  # the resident's own rating stays theirs
    event = d.events.get(action="call_back")
    assert not event.is_public and event.actor == personas[Role.BRANCH] and "还行" in event.note


def test_unsatisfied_reopens_like_a_rating(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    old_due, version = d.resolve_due_at, d.version
    told = OutboxMessage.objects.count()
    with time_machine.travel(d.resolved_at + dt.timedelta(days=7), tick=False):  # the limits restart from the call
        services.demand_call_back(
            demand=d,
            actor=personas[Role.BRANCH],
            reached=True,
            solved=True,
            satisfaction="unsatisfied",
            note="灯又坏了",
            version=version,
        )
    d.refresh_from_db()
    assert d.state == State.REOPENED and d.holder_area == tree.grid and d.version == version + 1
    assert d.resolve_due_at is not None and d.resolve_due_at != old_due
    reopen = d.events.get(action="reopen")
    assert reopen.is_public and reopen.actor == personas[Role.BRANCH] and "灯又坏了" in reopen.note
    assert OutboxMessage.objects.count() > told  # the resident and the holder are told, as for a rating


def test_not_solved_reopens_even_when_satisfied(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    services.demand_call_back(
        demand=d, actor=personas[Role.BRANCH], reached=True, solved=False, satisfaction="satisfied", note="没修"
    )
    d.refresh_from_db()
    assert d.state == State.REOPENED


def test_not_reached_records_the_attempt_only(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    version = d.version
    call = services.demand_call_back(
        demand=d, actor=personas[Role.CITY_ADMIN], reached=False, solved=False, satisfaction="unsatisfied"
    )
    d.refresh_from_db()
    assert (call.solved, call.satisfaction) == (None, None)
    assert d.state == State.RESOLVED and d.version == version


def test_only_on_resolved_demands(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid.code, channel="hotline")
    with pytest.raises(Conflict):
        services.demand_call_back(demand=d, actor=personas[Role.CITY_ADMIN], reached=False)
    assert not CallBack.objects.exists()


def test_not_on_resident_page_demands(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas, channel="resident_web")
    with pytest.raises(ValidationFailed):
        services.demand_call_back(demand=d, actor=personas[Role.CITY_ADMIN], reached=False)
    assert not CallBack.objects.exists()


def test_who_may_call_back(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    allowed = {role for role, user in personas.items() if can_call_back(demand=d, user=user)}
    # The level above the grid that resolved it, and the city's call-back desk; never the resolver.
    assert allowed == {Role.BRANCH, Role.CITY_ADMIN}
    events = DemandEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.demand_call_back(demand=d, actor=personas[Role.GRID_LEADER], reached=False)
    assert DemandEvent.objects.count() == events and not CallBack.objects.exists()


def test_a_department_resolution_is_called_back_by_its_dispatcher(tree: Any, personas: Any) -> None:
    d = make_demand(grid=tree.grid.code, channel="hotline")
    services.demand_escalate(demand=d, actor=personas[Role.GRID_LEADER], reason="需要上级")
    services.demand_accept(demand=d, actor=personas[Role.BRANCH])
    services.demand_escalate(demand=d, actor=personas[Role.BRANCH], reason="需要村里")
    services.demand_dispatch(demand=d, actor=personas[Role.VILLAGE], department=tree.department)
    d = services.demand_resolve(demand=d, actor=personas[Role.DEPARTMENT], result="已处理")
    allowed = {role for role, user in personas.items() if can_call_back(demand=d, user=user)}
    assert allowed == {Role.VILLAGE, Role.CITY_ADMIN}


def test_a_reached_call_needs_the_answers(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    with pytest.raises(ValidationFailed) as missing:
        services.demand_call_back(demand=d, actor=personas[Role.BRANCH], reached=True, satisfaction="satisfied")
    assert missing.value.field == "solved"
    with pytest.raises(ValidationFailed) as no_note:
        services.demand_call_back(
            demand=d, actor=personas[Role.BRANCH], reached=True, solved=True, satisfaction="unsatisfied"
        )
    assert no_note.value.field == "note"
    with pytest.raises(ValidationFailed):
        services.demand_call_back(demand=d, actor=personas[Role.BRANCH], reached=True, solved=True, satisfaction="x")
    assert not CallBack.objects.exists()


def test_a_stale_version_is_a_conflict(tree: Any, personas: Any) -> None:
    d = resolved(tree, personas)
    with pytest.raises(Conflict):
        services.demand_call_back(demand=d, actor=personas[Role.BRANCH], reached=False, version=d.version - 1)
    assert not CallBack.objects.exists()


def test_the_api_route_and_the_call_back_queue(tree: Any, personas: Any) -> None:
    from wangge.demands.tests.test_api import Api

    d = resolved(tree, personas)
    web = resolved(tree, personas, channel="resident_web")
    branch = Api(personas[Role.BRANCH])
    queue = branch.get("/demands", call_back="true")
    assert queue.status_code == 200, queue.content
    assert [row["id"] for row in queue.json()["items"]] == [d.pk]  # not the resident page's demand
    assert web.pk in [row["id"] for row in branch.get("/demands").json()["items"]]  # the filter left it out
    missed = branch.post(f"/demands/{d.pk}/call-back", {"reached": False})
    assert missed.status_code == 201 and missed.json()["reached"] is False
    # An unanswered call leaves it in the queue; a reached one takes it out.
    assert [row["id"] for row in branch.get("/demands", call_back="true").json()["items"]] == [d.pk]
    answered = branch.post(f"/demands/{d.pk}/call-back", {"reached": True, "solved": True, "satisfaction": "satisfied"})
    assert answered.status_code == 201, answered.content
    assert branch.get("/demands", call_back="true").json()["items"] == []
    refused = Api(personas[Role.GRID_LEADER]).post(f"/demands/{d.pk}/call-back", {"reached": False})
    assert refused.status_code == 403
    assert CallBack.objects.filter(demand=d).count() == 2


def test_a_call_back_clerk_calls_back_every_resolved_demand_of_its_areas_and_holds_nothing(
    tree: Any, personas: Any, client: Any
) -> None:
    """回访员: the town's call-back desk reaches a hotline reporter the branch above would otherwise call,
    never one outside its town, and never takes a demand."""
    from wangge.accounts.services import user_create
    from wangge.demands.permissions import can_hold

    clerk = user_create(username="huifang", password="x-long-enough-1", role=Role.CALL_BACK_CLERK, areas=[tree.town])
    ours = resolved(tree, personas)
    theirs = make_demand(grid=tree.other_grid.code, channel="hotline")
    assert can_call_back(demand=ours, user=clerk) and not can_hold(demand=ours, user=clerk)
    assert not can_call_back(demand=theirs, user=clerk)
    assert services.demand_can(demand=ours, user=clerk) == {"comment", "call_back"}
    with pytest.raises(PermissionDenied):
        services.demand_accept(demand=theirs, actor=clerk)
    client.force_login(clerk)
    home = client.get("/").content.decode()
    assert 'data-testid="call-back-link" data-count="1"' in home
    services.demand_call_back(demand=ours, actor=clerk, reached=True, solved=True, satisfaction="satisfied")
    assert CallBack.objects.get(demand=ours).by == clerk
    assert 'data-testid="call-back-link" data-count="0"' in client.get("/").content.decode()
