"""Verification before closing (核查): who verifies, the photo it needs, the send-back loop, what the
resident hears and when, and what the worker does (never closes, reminds once after the limit)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands import permissions, services
from wangge.demands.models import Category, Demand, DemandEvent, DemandPhoto, State
from wangge.demands.services.verification import OVERDUE_ACTION, verify_due_at
from wangge.demands.sweep import sweep_once
from wangge.demands.testing import make_category, make_demand
from wangge.notifications.models import OutboxMessage
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db

RESIDENT = "13900001234"
# Wednesday 15 April 2026, 10:00 in Shanghai (a working day; working hours 08:30–17:30).
T0 = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)


def at(hours: float) -> Any:
    return time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False)


def jpeg(name: str = "site.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 160, 40)).save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def hazard() -> Category:
    return make_category(name="安全隐患", needs_verification=True)


@pytest.fixture
def people(tree: Any, personas: Any) -> dict[str, Any]:
    """The personas, and supervisors over the town, over the other town, and a second grid leader of the grid."""
    return {
        **personas,
        "supervisor": make_user(role=Role.SUPERVISOR, areas=[tree.town], username="sup_town"),
        "far_supervisor": make_user(role=Role.SUPERVISOR, areas=[tree.other_town], username="sup_far"),
        "second_leader": make_user(role=Role.GRID_LEADER, areas=[tree.grid], username="grid_two"),
    }


def _resolved_by_branch(tree: Any, personas: Any, category: Category, **kw: Any) -> Demand:
    d = make_demand(grid=tree.grid, category=category, **kw)
    d = services.demand_escalate(demand=d, actor=personas[Role.GRID_LEADER], reason="网格处理不了")
    return services.demand_resolve(demand=d, actor=personas[Role.BRANCH], result="已加固护栏")


def _resident_resolved_messages(demand: Demand) -> int:
    return OutboxMessage.objects.filter(
        recipient=RESIDENT, kind="demand.resident.resolved", payload__demand_id=demand.pk
    ).count()


def test_a_verifying_category_waits_for_the_verifiers_and_tells_them_not_the_resident(
    tree: Any, people: Any, hazard: Category
) -> None:
    d = _resolved_by_branch(tree, people, hazard)
    assert d.state == State.VERIFYING and d.resolved_at is not None and d.verified_at is None
    assert _resident_resolved_messages(d) == 0
    told = set(OutboxMessage.objects.filter(kind="demand.verify").values_list("recipient", flat=True))
    # Both grid leaders of the demand's grid and the town's supervisor; not the branch that resolved it.
    assert told == {f"user:{people[k].pk}" for k in (Role.GRID_LEADER, "second_leader", "supervisor")}
    # An ordinary category still resolves at once and tells the resident.
    plain = make_demand(grid=tree.grid, category=make_category())
    plain = services.demand_resolve(demand=plain, actor=people[Role.GRID_LEADER], result="已修好")
    assert plain.state == State.RESOLVED and _resident_resolved_messages(plain) == 1


def test_who_may_verify_query_predicate_and_candidates_agree(tree: Any, people: Any, hazard: Category) -> None:
    by_branch = _resolved_by_branch(tree, people, hazard)
    by_leader = services.demand_resolve(
        demand=make_demand(grid=tree.grid, category=hazard), actor=people[Role.GRID_LEADER], result="已处理"
    )
    sibling = services.demand_resolve(
        demand=make_demand(grid=tree.sibling_grid, category=hazard),
        actor=make_user(role=Role.GRID_LEADER, areas=[tree.sibling_grid]),
        result="已处理",
    )
    village_level = make_demand(area=tree.village, category=hazard)
    village_level = services.demand_resolve(demand=village_level, actor=people[Role.VILLAGE], result="已处理")
    open_one = make_demand(grid=tree.grid, category=hazard)
    demands = {"by_branch": by_branch, "by_leader": by_leader, "sibling": sibling, "village": village_level}
    demands["open"] = open_one
    demands = {k: Demand.objects.select_related("area").get(pk=v.pk) for k, v in demands.items()}
    assert {k: v.state for k, v in demands.items()} == {
        "by_branch": State.VERIFYING,
        "by_leader": State.VERIFYING,
        "sibling": State.VERIFYING,
        "village": State.VERIFYING,
        "open": State.SUBMITTED,
    }
    for who, user in people.items():
        by_query = set(Demand.objects.filter(permissions.verify_q(user)))
        by_predicate = {d for d in demands.values() if permissions.can_verify(demand=d, user=user)}
        assert by_query == by_predicate, who
        # A verifier always sees what they verify.
        assert all(permissions.can_see(demand=d, user=user) for d in by_predicate), who
    verifiers = {
        name: {who for who, u in people.items() if permissions.can_verify(demand=d, user=u)}
        for name, d in demands.items()
    }
    assert verifiers == {
        "by_branch": {Role.GRID_LEADER, "second_leader", "supervisor"},
        "by_leader": {"second_leader", "supervisor"},  # never one's own work
        "sibling": {"supervisor"},  # another grid's leader does not verify it
        "village": {"supervisor"},  # no grid: no grid leader of "its" grid
        "open": set(),
    }
    ids = {u.pk: who for who, u in people.items()}
    for name, d in demands.items():
        candidates = {ids.get(pk, pk) for pk in permissions.verifier_candidates(demand=d).values_list("pk", flat=True)}
        if d.state == State.VERIFYING:
            assert candidates == verifiers[name], name


def test_confirming_needs_a_photo_and_changes_nothing_without_one(tree: Any, people: Any, hazard: Category) -> None:
    d = _resolved_by_branch(tree, people, hazard)
    before = (DemandEvent.objects.count(), OutboxMessage.objects.count(), DemandPhoto.objects.count())
    with pytest.raises(ValidationFailed) as err:
        services.demand_verify(demand=d, actor=people["supervisor"], photos=[], note="看过了")
    assert err.value.field == "photos"
    d.refresh_from_db()
    assert d.state == State.VERIFYING
    assert (DemandEvent.objects.count(), OutboxMessage.objects.count(), DemandPhoto.objects.count()) == before


def test_whoever_resolved_may_not_verify_and_others_may_not_either(tree: Any, people: Any, hazard: Category) -> None:
    d = services.demand_resolve(
        demand=make_demand(grid=tree.grid, category=hazard), actor=people[Role.GRID_LEADER], result="自己修好了"
    )
    with pytest.raises(PermissionDenied) as own:
        services.demand_verify(demand=d, actor=people[Role.GRID_LEADER], photos=[jpeg()])
    assert own.value.code == "own_work"
    assert "verify" not in services.demand_can(demand=d, user=people[Role.GRID_LEADER])
    for who in ("far_supervisor", Role.TOWN, Role.CITY_ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            services.demand_verify_back(demand=d, actor=people[who], reason="不行")
    assert {"verify", "verify_back"} <= services.demand_can(demand=d, user=people["supervisor"])
    services.demand_verify(demand=d, actor=people["supervisor"], photos=[jpeg()], note="现场已整改")
    d.refresh_from_db()
    assert d.state == State.RESOLVED
    # Verified once: a second confirmation is a lost race, not a second "resolved" message.
    with pytest.raises(Conflict):
        services.demand_verify(demand=d, actor=people["second_leader"], photos=[jpeg()])


def test_send_back_then_resolve_then_verify_tells_the_resident_once(tree: Any, people: Any, hazard: Category) -> None:
    with at(0):
        d = _resolved_by_branch(tree, people, hazard, reporter_phone=RESIDENT)
        first_resolved_at = d.resolved_at
    branch = people[Role.BRANCH]
    with at(1):
        d = services.demand_verify_back(
            demand=d,
            actor=people[Role.GRID_LEADER],
            reason="护栏还是松的",
            photos=[jpeg("loose.jpg")],
            version=d.version,
        )
    assert d.state == State.IN_PROGRESS and d.holder_area == tree.branch and d.holder_user == branch
    assert d.resolved_at == first_resolved_at  # kept until the holder answers again, as a reopen keeps it
    assert d.resolve_due_at is not None and d.resolve_due_at > T0 + dt.timedelta(hours=1)
    back = d.events.get(action="verify_back")
    assert (back.from_state, back.to_state, back.note, back.note_public) == (
        "verifying",
        "in_progress",
        "护栏还是松的",
        False,
    )
    assert back.attachments.count() == 1
    pushed = OutboxMessage.objects.get(kind="demand.verify_back")
    assert pushed.recipient == f"user:{branch.pk}" and "护栏还是松的" in pushed.body
    assert _resident_resolved_messages(d) == 0
    assert services.demand_can(demand=d, user=branch) >= {"resolve"}
    with at(2):
        d = services.demand_resolve(demand=d, actor=branch, result="护栏已重新焊接")
    assert d.state == State.VERIFYING and d.resolved_at == T0 + dt.timedelta(hours=2)
    with at(3):
        d = services.demand_verify(
            demand=d, actor=people["supervisor"], photos=[jpeg()], note="现场核实牢固", version=d.version
        )
    assert d.state == State.RESOLVED and d.verified_at == T0 + dt.timedelta(hours=3)
    verify = d.events.get(action="verify")
    assert (verify.from_state, verify.to_state, verify.actor) == ("verifying", "resolved", people["supervisor"])
    assert verify.attachments.count() == 1
    assert _resident_resolved_messages(d) == 1
    told = OutboxMessage.objects.get(recipient=RESIDENT, kind="demand.resident.resolved")
    assert "护栏已重新焊接" in told.body  # the holder's result, sent when it is verified
    actions = list(d.events.values_list("action", flat=True))
    assert actions.count("verify_back") == 1 and actions.count("verify") == 1 and actions.count("resolve") == 2


def test_the_silence_never_closes_a_verifying_demand_and_counts_from_the_verification(
    tree: Any, people: Any, hazard: Category, settings: Any
) -> None:
    settings.DEMAND_AUTO_CLOSE_DAYS = 3
    with at(0):
        d = _resolved_by_branch(tree, people, hazard)
    with at(24 * 5):
        assert sweep_once().closed == 0
        with pytest.raises(Conflict):
            services.demand_close_silent(demand=d.pk)
        services.demand_verify(demand=d, actor=people["supervisor"], photos=[jpeg()])
    with at(24 * 7):  # 7 days after the answer, 2 after the verification: the resident still has time
        assert sweep_once().closed == 0
    with at(24 * 8 + 1):
        assert sweep_once().closed == 1
    d.refresh_from_db()
    assert d.state == State.CLOSED


def test_verifiers_are_reminded_once_after_the_working_hours_limit(
    tree: Any, people: Any, hazard: Category, settings: Any
) -> None:
    settings.DEMAND_VERIFY_HOURS = 16
    with at(0):
        d = _resolved_by_branch(tree, people, hazard)
    # Wednesday 10:00 + 16 working hours (08:30–17:30) = Thursday 17:00.
    assert verify_due_at(d) == dt.datetime(2026, 4, 16, 9, 0, tzinfo=dt.UTC)
    with at(24):  # Thursday 10:00: 24 calendar hours, only 9 working hours
        report = sweep_once()
        assert report.verify_reminded == 0 and report.conflicts == 0
        assert not d.events.filter(action=OVERDUE_ACTION).exists()
    with at(31.5):  # Thursday 17:30
        assert sweep_once().verify_reminded == 1
        assert sweep_once().verify_reminded == 0
    d.refresh_from_db()
    assert d.state == State.VERIFYING and d.warning == "none"
    event = d.events.get(action=OVERDUE_ACTION)
    assert (event.is_public, event.from_state, event.to_state, event.actor_kind) == (
        False,
        "verifying",
        "verifying",
        "system",
    )
    reminded = set(OutboxMessage.objects.filter(kind="demand.verify_overdue").values_list("recipient", flat=True))
    assert reminded == {f"user:{people[k].pk}" for k in (Role.GRID_LEADER, "second_leader", "supervisor")}
    with pytest.raises(Conflict):
        services.demand_verify_remind(demand=d.pk)
    # Sent back and resolved again: a new wait, with its own reminder after its own limit.
    with at(32):
        d = services.demand_verify_back(demand=d, actor=people["supervisor"], reason="未整改到位")
        d = services.demand_resolve(demand=d, actor=people[Role.BRANCH], result="已整改")
    with at(33):
        assert sweep_once().verify_reminded == 0
    with at(24 * 7):
        assert sweep_once().verify_reminded == 1
    assert d.events.filter(action=OVERDUE_ACTION).count() == 2
