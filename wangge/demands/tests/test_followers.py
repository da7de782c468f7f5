"""Followers: a neighbour with the same problem follows an open demand, hears when it is resolved, and a merge
makes the duplicate's reporter and followers followers of the demand it joined (nobody is left uninformed)."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.demands import selectors, services
from wangge.demands.models import Demand, DemandComment, DemandEvent, DemandFollower, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db

REPORTER = "13900000001"
NEIGHBOUR = "13900000002"
OTHER = "13900000003"


def sms_to(phone: str, kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(recipient=phone, kind=kind))


def test_follow_makes_one_row_with_its_own_token_and_tells_the_follower(tree: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    follower = services.demand_follow(demand=demand, phone="139 0000 0002")
    assert follower.demand == demand and follower.phone == NEIGHBOUR
    assert len(follower.token) >= 32 and follower.token != demand.tracking_token
    assert follower.phone_masked == "139****0002"
    assert selectors.follower_by_token(token=follower.token) == follower
    # Following again with the same phone is the same row: one token, one confirmation.
    assert services.demand_follow(demand=demand.pk, phone=NEIGHBOUR) == follower
    assert DemandFollower.objects.count() == 1
    confirmations = sms_to(NEIGHBOUR, "demand.follower.followed")
    assert len(confirmations) == 1 and demand.code in confirmations[0].body
    # Staff see it on the timeline (masked), the reporter's public timeline does not.
    event = demand.events.get(action="follow")
    assert not event.is_public and "139****0002" in event.note and NEIGHBOUR not in event.note
    assert not selectors.demand_timeline(demand=demand, public=True).filter(action="follow").exists()


def test_follow_refuses_a_bad_phone_and_a_finished_demand_in_both_languages(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    with pytest.raises(ValidationFailed) as bad:
        services.demand_follow(demand=demand, phone="12345")
    assert bad.value.field == "phone" and "电话号码格式不正确" in bad.value.zh and "not valid" in bad.value.en
    with pytest.raises(ValidationFailed) as empty:
        services.demand_follow(demand=demand, phone="")
    assert empty.value.zh and empty.value.en
    services.demand_reject(demand=demand, actor=personas[Role.GRID_LEADER], reason="不属于受理范围")
    with pytest.raises(Conflict) as closed:
        services.demand_follow(demand=demand, phone=NEIGHBOUR)
    assert "不能再关注" in closed.value.zh and "can no longer be followed" in closed.value.en
    with pytest.raises(NotFound):
        services.demand_follow(demand=999999, phone=NEIGHBOUR)
    assert DemandFollower.objects.count() == 0
    with pytest.raises(NotFound):
        selectors.follower_by_token(token="not-a-token")


def test_following_a_merged_demand_follows_the_one_it_joined(tree: Any, personas: Any) -> None:
    first = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    dup = make_demand(grid=tree.grid, reporter_phone=OTHER)
    services.demand_merge(demand=dup, actor=personas[Role.GRID_LEADER], into=first)
    follower = services.demand_follow(demand=dup, phone=NEIGHBOUR)
    assert follower.demand == first


def test_followers_are_told_once_when_it_is_resolved(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    services.demand_follow(demand=demand, phone=NEIGHBOUR)
    services.demand_follow(demand=demand, phone=REPORTER)  # the reporter following their own: still one SMS
    services.demand_resolve(demand=demand, actor=personas[Role.GRID_LEADER], result="路灯已更换")
    resolved = sms_to(NEIGHBOUR, "demand.follower.resolved")
    assert len(resolved) == 1 and "路灯已更换" in resolved[0].body and demand.code in resolved[0].body
    assert len(sms_to(REPORTER, "demand.resident.resolved")) == 1
    assert sms_to(REPORTER, "demand.follower.resolved") == []


def test_a_merge_keeps_every_reporter_informed(tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    first = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    dup = make_demand(grid=tree.grid, reporter_phone=OTHER)
    dup_follower = services.demand_follow(demand=dup, phone=NEIGHBOUR)
    services.demand_merge(demand=dup, actor=leader, into=first)

    # The duplicate's reporter and its follower now follow the demand it joined, each by a new token.
    rows = {f.phone: f for f in DemandFollower.objects.filter(demand=first)}
    assert set(rows) == {OTHER, NEIGHBOUR}
    assert all(f.merged_from_id == dup.pk for f in rows.values())
    assert rows[NEIGHBOUR].token != dup_follower.token
    assert selectors.follower_after_merge(demand=Demand.objects.get(pk=dup.pk), phone=OTHER) == rows[OTHER]
    # Both were told of the merge.
    assert len(sms_to(OTHER, "demand.resident.merged")) == 1
    merged = sms_to(NEIGHBOUR, "demand.follower.merged")
    assert len(merged) == 1 and first.code in merged[0].body

    # And when the first is resolved, everyone hears it exactly once.
    services.demand_resolve(demand=first, actor=leader, result="已修复")
    told = OutboxMessage.objects.filter(kind__in=["demand.resident.resolved", "demand.follower.resolved"])
    recipients = sorted(told.values_list("recipient", flat=True))
    assert recipients == sorted([REPORTER, OTHER, NEIGHBOUR])


def test_a_merge_makes_no_follower_of_the_targets_own_reporter(tree: Any, personas: Any) -> None:
    first = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    again = make_demand(grid=tree.grid, reporter_phone=REPORTER)  # the same person reported twice
    services.demand_merge(demand=again, actor=personas[Role.GRID_LEADER], into=first)
    assert not DemandFollower.objects.filter(demand=first).exists()


def test_a_follower_comments_publicly_by_their_own_token_only(tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, reporter_phone=REPORTER)
    follower = services.demand_follow(demand=demand, phone=NEIGHBOUR)
    with pytest.raises(PermissionDenied):
        services.demand_follower_comment(follower=follower, token=demand.tracking_token, body="我家门口也是")
    with pytest.raises(ValidationFailed):
        services.demand_follower_comment(follower=follower, token=follower.token, body="  ")
    comment = services.demand_follower_comment(follower=follower, token=follower.token, body="我家门口也是")
    assert comment.by_resident and comment.visibility == "public" and comment.body == "我家门口也是"
    event = DemandEvent.objects.get(demand=demand, action="comment")
    assert event.is_public and event.follower == follower and event.actor_kind == "resident"
    assert DemandComment.objects.filter(demand=demand).count() == 1
    # A follower cannot rate: rating takes the reporter's token, and the demand stays resolved.
    services.demand_resolve(demand=demand, actor=personas[Role.GRID_LEADER], result="已修复")
    with pytest.raises(PermissionDenied):
        services.demand_rate(demand=demand, satisfaction="satisfied", token=follower.token)
    assert Demand.objects.get(pk=demand.pk).state == State.RESOLVED
