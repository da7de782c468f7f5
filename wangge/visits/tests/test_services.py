"""visit_log and opinion_follow_up: all or nothing, inside the visitor's scope, forward-only follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.demands.models import Demand, DemandEvent, State
from wangge.notifications.models import OutboxMessage
from wangge.registry.testing import make_household
from wangge.visits.models import FollowUp, Opinion, Visit
from wangge.visits.services import DemandDraft, OpinionDraft, opinion_follow_up, visit_log
from wangge.visits.testing import make_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(tree: Any) -> Any:
    return make_household(grid=tree.grid, head_name="刘奶奶", address="金沙路8号", phone="13800138000")


def nothing_written() -> bool:
    return not (Visit.objects.exists() or Opinion.objects.exists() or Demand.objects.exists())


def test_a_visit_with_opinions_and_a_demand_is_one_step(personas: Any, household: Any, tree: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    logged = visit_log(
        visitor=leader,
        household=household,
        how="phone",
        notes="电话回访，老人身体尚可",
        opinions=[
            OpinionDraft("希望村里修一个老年活动室", "livelihood"),
            {"text": "路灯太暗", "category": "infrastructure"},
        ],
        demand=DemandDraft(description="屋顶漏雨，需要帮忙找人修缮", category="0401", urgency="urgent"),
    )
    visit = logged.visit
    visit.refresh_from_db()
    assert visit.visitor == leader and visit.grid == tree.grid and visit.area_path == tree.grid.path
    assert visit.how == "phone" and logged.replayed is False
    assert [o.category for o in visit.opinions.order_by("id")] == ["livelihood", "infrastructure"]
    assert all(o.state == FollowUp.NOTED and o.household == household for o in visit.opinions.all())
    demand = visit.demand
    assert demand is not None and demand.channel == "visit" and demand.household == household
    assert demand.area == tree.grid and demand.created_by == leader and demand.urgency == "urgent"
    assert demand.reporter_name == "刘奶奶" and demand.reporter_phone == "13800138000"
    assert demand.state == State.SUBMITTED
    assert DemandEvent.objects.filter(demand=demand, action="submit").count() == 1


def test_a_refused_demand_leaves_nothing_behind(personas: Any, household: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        visit_log(
            visitor=personas[Role.GRID_LEADER],
            household=household,
            notes="入户走访",
            opinions=[OpinionDraft("建议增加垃圾桶", "environment")],
            demand=DemandDraft(description="   "),
        )
    assert err.value.field == "demand.description"
    assert "不能为空" in err.value.zh and "required" in err.value.en
    assert nothing_written()
    assert not OutboxMessage.objects.exists()


def test_a_bad_demand_category_also_refuses_the_visit(personas: Any, household: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        visit_log(
            visitor=personas[Role.GRID_LEADER],
            household=household,
            demand={"description": "下水道堵了", "category": "no-such-code"},
        )
    assert err.value.field == "demand.category"
    assert nothing_written()


def test_a_household_outside_the_scope_is_refused(personas: Any, tree: Any) -> None:
    stranger = make_household(grid=tree.other_grid)
    for role in (Role.GRID_LEADER, Role.VILLAGE, Role.DEPARTMENT):
        with pytest.raises(PermissionDenied):
            visit_log(visitor=personas[role], household=stranger, demand=DemandDraft(description="路灯坏了"))
    with pytest.raises(PermissionDenied):
        visit_log(visitor=personas[Role.AUDITOR], household=stranger)
    assert nothing_written()


def test_cadres_above_the_grid_may_visit_and_auditors_may_not(personas: Any, household: Any) -> None:
    assert visit_log(visitor=personas[Role.TOWN], household=household, how="group_meeting").visit.pk
    with pytest.raises(PermissionDenied):
        visit_log(visitor=personas[Role.AUDITOR], household=household)
    assert Visit.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"how": "carrier_pigeon"}, "how"),
        ({"notes": "字" * 5001}, "notes"),
        ({"opinions": [OpinionDraft("  ")]}, "opinions.0.text"),
        ({"opinions": [OpinionDraft("好", "weather")]}, "opinions.0.category"),
        ({"opinions": [OpinionDraft("好")] * 21}, "opinions"),
        ({"visited_at": clock.now() + dt.timedelta(hours=2)}, "visited_at"),
        ({"visited_at": dt.datetime(2026, 4, 1, 9, 0)}, "visited_at"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(
    personas: Any, household: Any, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        visit_log(visitor=personas[Role.GRID_LEADER], household=household, **kwargs)
    assert err.value.field == field
    assert err.value.zh and err.value.en
    assert nothing_written()


def test_an_earlier_visit_can_be_logged_later(personas: Any, household: Any) -> None:
    earlier = clock.now() - dt.timedelta(days=3)
    visit = visit_log(visitor=personas[Role.GRID_LEADER], household=household, visited_at=earlier).visit
    assert visit.visited_at == earlier and visit.created_at > earlier


def test_a_double_tap_logs_one_visit_and_one_demand(personas: Any, household: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    args = {"visitor": leader, "household": household, "demand": DemandDraft(description="楼道灯坏了")}
    first = visit_log(idempotency_key="k-1", **args)
    again = visit_log(idempotency_key="k-1", **args)
    assert again.visit.pk == first.visit.pk and again.replayed is True and first.replayed is False
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1
    with pytest.raises(Conflict):
        visit_log(idempotency_key="k-1", visitor=personas[Role.TOWN], household=household)


def test_household_without_a_valid_phone_still_raises_a_demand(personas: Any, tree: Any) -> None:
    household = make_household(grid=tree.grid, phone="")
    visit = visit_log(
        visitor=personas[Role.GRID_LEADER], household=household, demand={"description": "化粪池满了"}
    ).visit
    assert visit.demand is not None and visit.demand.reporter_phone == ""


# --- follow-up ------------------------------------------------------------------------------


@pytest.fixture
def opinion(personas: Any, household: Any) -> Opinion:
    visit = make_visit(visitor=personas[Role.GRID_LEADER], household=household, opinions=[OpinionDraft("修路")])
    return visit.opinions.get()


def test_an_opinion_is_adopted_then_answered(personas: Any, opinion: Opinion) -> None:
    village = personas[Role.VILLAGE]
    adopted = opinion_follow_up(opinion=opinion, actor=village, state="adopted")
    assert adopted.state == FollowUp.ADOPTED and adopted.adopted_by == village and adopted.adopted_at
    answered = opinion_follow_up(opinion=adopted, actor=village, state="answered", answer="已列入今年村道硬化计划")
    assert answered.state == FollowUp.ANSWERED and answered.answer == "已列入今年村道硬化计划"
    assert answered.answered_by == village and answered.answered_at is not None


def test_an_answer_needs_words_and_answered_is_final(personas: Any, opinion: Opinion) -> None:
    leader = personas[Role.GRID_LEADER]
    with pytest.raises(ValidationFailed) as err:
        opinion_follow_up(opinion=opinion, actor=leader, state="answered", answer=" ")
    assert err.value.field == "answer"
    opinion.refresh_from_db()
    assert opinion.state == FollowUp.NOTED
    opinion_follow_up(opinion=opinion, actor=leader, state="answered", answer="已向镇里反映")
    for state in ("adopted", "answered", "noted"):
        with pytest.raises(Conflict):
            opinion_follow_up(opinion=opinion, actor=leader, state=state, answer="再答一次")
    with pytest.raises(ValidationFailed):
        opinion_follow_up(opinion=opinion, actor=leader, state="forgotten")


def test_a_stale_opinion_loses_the_race(personas: Any, opinion: Opinion) -> None:
    stale = Opinion.objects.get(pk=opinion.pk)
    opinion_follow_up(opinion=opinion, actor=personas[Role.VILLAGE], state="adopted")
    opinion_follow_up(opinion=stale, actor=personas[Role.TOWN], state="answered", answer="已答复")
    with pytest.raises(Conflict) as err:
        # Stale copy still says "noted"; the service reads the row, so adopting twice is refused.
        opinion_follow_up(opinion=stale, actor=personas[Role.TOWN], state="adopted")
    # The states are named by FollowUp's labels, in each language from the catalogue.
    assert err.value.zh == "该意见当前为「已答复」，不能改为「已采纳」"
    assert err.value.en == "this opinion is Answered; it cannot become Adopted"


def test_only_staff_of_the_area_follow_up(personas: Any, opinion: Opinion) -> None:
    for persona in ("outsider", Role.DEPARTMENT, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            opinion_follow_up(opinion=opinion, actor=personas[persona], state="adopted")
    opinion.refresh_from_db()
    assert opinion.state == FollowUp.NOTED and opinion.adopted_by is None


def test_opinions_of_an_earlier_visit_are_dated_by_the_visit(personas: Any, household: Any) -> None:
    earlier = clock.now() - dt.timedelta(days=3)
    visit = visit_log(
        visitor=personas[Role.GRID_LEADER], household=household, visited_at=earlier, opinions=[OpinionDraft("修桥")]
    ).visit
    assert visit.opinions.get().created_at == earlier
