"""延期 (extension) and 挂起 (suspension): asked by the holder, decided once by the level above, resumed by hand
or by the worker; deadlines move on the county's working calendar."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core.clock import local_tz
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.testing import run_threads
from wangge.demands import services
from wangge.demands.models import Demand, DemandRequest, RequestState, State, WarningLevel
from wangge.demands.permissions import can_decide_request, decide_q
from wangge.demands.sweep import sweep_once
from wangge.demands.testing import make_demand
from wangge.holidays.workdays import add_working_hours, working_hours_between
from wangge.notifications.models import OutboxMessage

TZ = local_tz()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def travel(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def in_hand(tree: Any, personas: Any, **extra: Any) -> Demand:
    """A demand the grid leader has accepted (state in_progress)."""
    d = make_demand(grid=tree.grid, **extra)
    return services.demand_accept(demand=d, actor=personas[Role.GRID_LEADER])


# --- extension ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approved_extension_moves_both_deadlines_and_tells_everyone(tree: Any, personas: Any) -> None:
    leader, branch = personas[Role.GRID_LEADER], personas[Role.BRANCH]
    with travel(local(2026, 4, 28, 10, 0)):  # Tuesday
        d = in_hand(tree, personas)
        d.warning = WarningLevel.YELLOW
        d.save(update_fields=["warning"])
        case_due = d.case_due_at
        request = services.demand_extension_request(
            demand=d, actor=leader, reason="需等待供电公司更换变压器", until=dt.date(2026, 5, 20), version=d.version
        )
    assert request.state == RequestState.PENDING and request.approver_path == tree.branch.path
    assert request.until == local(2026, 5, 20, 17, 30)  # a date is the close of that working day
    assert OutboxMessage.objects.filter(recipient=f"user:{branch.pk}", kind="demand.extension_request").exists()
    d.refresh_from_db()
    assert d.state == State.IN_PROGRESS and d.events.get(action="extend").is_public is False
    with travel(local(2026, 4, 29, 9, 0)):
        services.demand_extension_decide(request=request, actor=branch, approve=True)
    d.refresh_from_db()
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED and request.decided_by == branch
    assert d.resolve_due_at == local(2026, 5, 20, 17, 30)
    assert d.case_due_at == max(case_due, d.resolve_due_at)
    assert d.extensions == 1 and d.warning == WarningLevel.NONE
    assert local(2026, 4, 29, 9, 0) < d.yellow_at < d.resolve_due_at
    approve = d.events.get(action="extend_approve")
    assert approve.is_public and "2026-05-20 17:30" in approve.note
    resident = OutboxMessage.objects.get(kind="demand.resident.extended")
    assert resident.recipient == d.reporter_phone and "2026-05-20 17:30" in resident.body
    assert OutboxMessage.objects.filter(recipient=f"user:{leader.pk}", kind="demand.extension_decided").exists()


@pytest.mark.django_db
def test_a_refused_extension_keeps_the_deadline_and_needs_a_reason(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    due = d.resolve_due_at
    request = services.demand_extension_request(
        demand=d, actor=personas[Role.GRID_LEADER], reason="人手不足", until=due + dt.timedelta(days=10)
    )
    with pytest.raises(ValidationFailed) as caught:
        services.demand_extension_decide(request=request, actor=personas[Role.BRANCH], approve=False, note=" ")
    assert caught.value.field == "note"
    services.demand_extension_decide(request=request, actor=personas[Role.BRANCH], approve=False, note="请先联系住建局")
    d.refresh_from_db()
    assert d.resolve_due_at == due and d.extensions == 0
    assert "请先联系住建局" in d.events.get(action="extend_refuse").note
    assert not OutboxMessage.objects.filter(kind="demand.resident.extended").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "until", "field"),
    [
        ("", dt.timedelta(days=10), "reason"),
        ("等材料", None, "until"),
        ("等材料", dt.timedelta(hours=-1), "until"),  # not later than the current deadline
        ("等材料", "past", "until"),
        ("等材料", "saturday", "until"),  # 2026-05-02: a holiday, not a working day
    ],
)
def test_a_request_is_refused_field_by_field(tree: Any, personas: Any, reason: str, until: Any, field: str) -> None:
    with travel(local(2026, 4, 28, 10, 0)):
        d = in_hand(tree, personas)
        if until == "past":
            until = local(2026, 4, 27, 10, 0)
        elif until == "saturday":
            until = dt.date(2026, 5, 2)
        elif isinstance(until, dt.timedelta):
            until = d.resolve_due_at + until
        with pytest.raises(ValidationFailed) as caught:
            services.demand_extension_request(demand=d, actor=personas[Role.GRID_LEADER], reason=reason, until=until)
    assert caught.value.field == field
    assert not DemandRequest.objects.exists()


@pytest.mark.django_db
def test_only_the_holder_asks_one_request_at_a_time_of_a_demand_in_hand(tree: Any, personas: Any) -> None:
    waiting = make_demand(grid=tree.grid)
    later = dt.timedelta(days=30)
    with pytest.raises(Conflict):  # not accepted yet: there is no holder's clock to move
        services.demand_extension_request(
            demand=waiting, actor=personas[Role.GRID_LEADER], reason="等", until=waiting.resolve_due_at + later
        )
    d = in_hand(tree, personas)
    with pytest.raises(PermissionDenied):
        services.demand_extension_request(
            demand=d, actor=personas[Role.BRANCH], reason="等", until=d.resolve_due_at + later
        )
    services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等法院判决")
    with pytest.raises(Conflict):
        services.demand_extension_request(
            demand=d, actor=personas[Role.GRID_LEADER], reason="等", until=d.resolve_due_at + later
        )
    assert DemandRequest.objects.filter(demand=d).count() == 1


@pytest.mark.django_db
def test_who_decides_and_the_filter_agrees_with_the_predicate(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    d = in_hand(tree, personas)
    grid_request = services.demand_suspension_request(demand=d, actor=leader, reason="等预算")
    # A department's request goes to the level that dispatched it (here the town).
    town_held = make_demand(grid=tree.grid)
    town_held.holder_area, town_held.holder_path, town_held.holder_level = tree.town, tree.town.path, "town"
    town_held.save()
    town_held = services.demand_dispatch(demand=town_held, actor=personas[Role.TOWN], department=tree.department)
    town_held = services.demand_accept(demand=town_held, actor=personas[Role.DEPARTMENT])
    dept_request = services.demand_suspension_request(
        demand=town_held, actor=personas[Role.DEPARTMENT], reason="等天气"
    )
    assert dept_request.approver_path == tree.town.path
    expected = {
        Role.GRID_LEADER: set(),
        Role.BRANCH: {grid_request.pk},
        Role.VILLAGE: {grid_request.pk},
        Role.TOWN: {grid_request.pk, dept_request.pk},
        Role.CITY_ADMIN: {grid_request.pk, dept_request.pk},
        Role.DEPARTMENT: set(),
        Role.AUDITOR: set(),
        "outsider": set(),
    }
    for persona, ids in expected.items():
        user = personas[persona]
        by_q = set(DemandRequest.objects.filter(decide_q(user)).values_list("pk", flat=True))
        by_predicate = {r.pk for r in DemandRequest.objects.all() if can_decide_request(request=r, user=user)}
        assert by_q == by_predicate == ids, persona
    with pytest.raises(PermissionDenied):
        services.demand_suspension_decide(request=grid_request, actor=leader, approve=True)
    with pytest.raises(PermissionDenied):
        services.demand_suspension_decide(request=dept_request, actor=personas[Role.BRANCH], approve=True)


@pytest.mark.django_db
def test_a_second_decider_gets_a_conflict_and_nothing_moves_twice(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    request = services.demand_extension_request(
        demand=d, actor=personas[Role.GRID_LEADER], reason="等材料", until=d.resolve_due_at + dt.timedelta(days=5)
    )
    services.demand_extension_decide(request=request, actor=personas[Role.BRANCH], approve=True)
    with pytest.raises(Conflict):  # the village read the same pending request a moment before
        services.demand_extension_decide(request=request, actor=personas[Role.VILLAGE], approve=False, note="不同意")
    d.refresh_from_db()
    assert d.extensions == 1 and d.events.filter(action__startswith="extend_").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_once_give_one_winner_and_one_conflict(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    request = services.demand_extension_request(
        demand=d, actor=personas[Role.GRID_LEADER], reason="等材料", until=d.resolve_due_at + dt.timedelta(days=5)
    )
    deciders = [personas[Role.BRANCH], personas[Role.VILLAGE]]
    results = run_threads(
        2,
        lambda i: services.demand_extension_decide(
            request=request.pk, actor=deciders[i], approve=i == 0, note="" if i == 0 else "不同意"
        ),
    )
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"DemandRequest": 1, "Conflict": 1}, results
    d.refresh_from_db()
    assert d.events.filter(action__in=["extend_approve", "extend_refuse"]).count() == 1


# --- suspension ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_suspension_stops_the_clock_across_a_weekend_and_a_holiday(tree: Any, personas: Any) -> None:
    leader, branch = personas[Role.GRID_LEADER], personas[Role.BRANCH]
    with travel(local(2026, 4, 28, 10, 0)):  # Tuesday
        d = in_hand(tree, personas)
        due, case_due, yellow = d.resolve_due_at, d.case_due_at, d.yellow_at
        request = services.demand_suspension_request(demand=d, actor=leader, reason="等法院判决")
    with travel(local(2026, 4, 30, 10, 0)):  # Thursday, the day before the Labour Day holiday (1–5 May)
        services.demand_suspension_decide(request=request, actor=branch, approve=True)
    d.refresh_from_db()
    assert d.state == State.SUSPENDED and d.suspensions == 1 and d.suspended_at == local(2026, 4, 30, 10, 0)
    told = OutboxMessage.objects.get(kind="demand.resident.suspended")
    assert "等法院判决" in told.body
    with travel(local(2026, 5, 6, 10, 0)):  # Wednesday: the first working day after the holiday
        services.demand_resume(demand=d, actor=leader, version=d.version)
    d.refresh_from_db()
    # Six calendar days, nine working hours: Thursday 10:00–17:30 and Wednesday 08:30–10:00.
    assert working_hours_between(local(2026, 4, 30, 10, 0), local(2026, 5, 6, 10, 0)) == 9.0
    assert d.state == State.IN_PROGRESS and d.suspended_at is None
    assert d.resolve_due_at == add_working_hours(due, 9.0)
    assert d.case_due_at == add_working_hours(case_due, 9.0)
    assert d.yellow_at == add_working_hours(yellow, 9.0)
    assert due == local(2026, 5, 8, 17, 30)  # 5 working days (the default limit) from Tuesday 28 April
    # Nine working hours after Friday's close end on Saturday 9 May, a working day moved by the holiday (调休).
    assert d.resolve_due_at == local(2026, 5, 9, 17, 30)
    resume = d.events.get(action="resume")
    assert resume.actor == leader and resume.is_public


@pytest.mark.django_db
def test_an_urgent_suspension_moves_the_deadlines_by_calendar_time(tree: Any, personas: Any) -> None:
    with travel(local(2026, 4, 30, 10, 0)):
        d = in_hand(tree, personas, urgency="urgent")
        due = d.resolve_due_at
        request = services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="暴雨")
        services.demand_suspension_decide(request=request, actor=personas[Role.BRANCH], approve=True)
    with travel(local(2026, 5, 2, 16, 0)):  # a holiday: calendar hours count for urgent matters
        services.demand_resume(demand=d, actor=personas[Role.BRANCH])  # the decider may resume it too
    d.refresh_from_db()
    assert d.resolve_due_at == due + dt.timedelta(days=2, hours=6)
    assert OutboxMessage.objects.filter(
        recipient=f"user:{personas[Role.GRID_LEADER].pk}", kind="demand.resumed"
    ).exists()


@pytest.mark.django_db
def test_a_suspended_demand_is_resumed_by_the_sweep_on_its_date_and_never_warned(tree: Any, personas: Any) -> None:
    with travel(local(2026, 4, 28, 10, 0)):
        d = in_hand(tree, personas)
        request = services.demand_suspension_request(
            demand=d, actor=personas[Role.GRID_LEADER], reason="等预算下达", until=dt.date(2026, 6, 15)
        )
        assert request.until == local(2026, 6, 15, 8, 30)  # a date to resume is the opening of that working day
        services.demand_suspension_decide(request=request, actor=personas[Role.BRANCH], approve=True)
    d.refresh_from_db()
    due = d.resolve_due_at
    assert due < local(2026, 6, 1, 0, 0)
    with travel(local(2026, 6, 1, 10, 0)):  # long past the old deadline, before the date to resume
        report = sweep_once()
    d.refresh_from_db()
    assert (report.resumed, report.red, report.yellow, report.escalated) == (0, 0, 0, 0)
    assert d.state == State.SUSPENDED and d.warning == WarningLevel.NONE
    with pytest.raises(Conflict), travel(local(2026, 6, 1, 10, 0)):
        services.demand_resume(demand=d)  # the worker resumes only on the date
    with travel(local(2026, 6, 15, 9, 0)):
        report = sweep_once()
        again = sweep_once()
    d.refresh_from_db()
    assert report.resumed == 1 and again.resumed == 0
    assert d.state == State.IN_PROGRESS and d.warning == WarningLevel.NONE
    stopped = working_hours_between(d.events.get(action="suspend_approve").at, local(2026, 6, 15, 9, 0))
    assert d.resolve_due_at == add_working_hours(due, stopped)
    event = d.events.get(action="resume")
    assert event.actor is None and event.actor_kind == "system"


@pytest.mark.django_db
def test_only_the_holder_or_a_decider_resumes_by_hand(tree: Any, personas: Any) -> None:
    d = in_hand(tree, personas)
    request = services.demand_suspension_request(demand=d, actor=personas[Role.GRID_LEADER], reason="等")
    services.demand_suspension_decide(request=request, actor=personas[Role.BRANCH], approve=True)
    for persona in (Role.DEPARTMENT, Role.AUDITOR, "outsider"):
        with pytest.raises(PermissionDenied):
            services.demand_resume(demand=d, actor=personas[persona])
    d.refresh_from_db()
    assert d.state == State.SUSPENDED
    assert "resume" in services.demand_can(demand=d, user=personas[Role.GRID_LEADER])
    assert "resume" in services.demand_can(demand=d, user=personas[Role.TOWN])
    assert "resume" not in services.demand_can(demand=d, user=personas[Role.DEPARTMENT])


@pytest.mark.django_db
def test_demand_can_offers_requests_to_the_holder_and_decisions_above(tree: Any, personas: Any) -> None:
    leader, branch = personas[Role.GRID_LEADER], personas[Role.BRANCH]
    d = in_hand(tree, personas)
    assert {"extend", "suspend"} <= services.demand_can(demand=d, user=leader)
    assert not {"extend", "suspend", "extend_approve"} & services.demand_can(demand=d, user=branch)
    later = d.resolve_due_at + dt.timedelta(days=3)
    services.demand_extension_request(demand=d, actor=leader, reason="等", until=later)
    d.refresh_from_db()
    assert not {"extend", "suspend"} & services.demand_can(demand=d, user=leader)
    assert {"extend_approve", "extend_refuse"} <= services.demand_can(demand=d, user=branch)


@pytest.mark.django_db
def test_a_request_lapses_when_the_demand_changes_hands(tree: Any, personas: Any) -> None:
    leader, branch = personas[Role.GRID_LEADER], personas[Role.BRANCH]
    d = in_hand(tree, personas)
    old = services.demand_extension_request(
        demand=d, actor=leader, reason="等", until=d.resolve_due_at + dt.timedelta(days=3)
    )
    d = services.demand_escalate(demand=d, actor=leader, reason="需支部协调")
    d = services.demand_accept(demand=d, actor=branch)
    with pytest.raises(Conflict):
        services.demand_extension_decide(request=old, actor=personas[Role.VILLAGE], approve=True)
    new = services.demand_suspension_request(demand=d, actor=branch, reason="等天气")
    old.refresh_from_db()
    assert old.state == RequestState.REFUSED and new.approver_path == tree.village.path
