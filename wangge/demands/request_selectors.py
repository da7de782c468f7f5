"""Reads of 延期 (extension) and 挂起 (suspension) requests, scoped by `permissions.decide_q`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wangge.demands.models import DemandRequest, RequestState, State
from wangge.demands.permissions import decide_q


def requests_to_decide(*, user: Any) -> QuerySet[DemandRequest]:
    """Pending requests that `user` decides, on demands still in hand (a request whose demand moved on has
    lapsed), oldest first."""
    return (
        DemandRequest.objects.filter(decide_q(user), state=RequestState.PENDING, demand__state=State.IN_PROGRESS)
        .select_related("demand", "demand__area", "demand__holder_area", "demand__holder_department", "requested_by")
        .order_by("requested_at", "id")
    )


def count_to_decide(*, user: Any) -> int:
    """How many requests wait for `user`'s decision (the landing page's 待审批)."""
    return requests_to_decide(user=user).count()
