"""The verifier's queue (待核查): resolved demands of categories that need verification, waiting for this user.

Who verifies what is `permissions.verify_q` / `can_verify`; this module only reads through it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wangge.accounts.models import Role
from wangge.demands.models import Demand
from wangge.demands.permissions import verify_q


def verify_queue(*, user: Any) -> QuerySet[Demand]:
    """Demands waiting for `user` to verify them on site, the longest waiting first."""
    return (
        Demand.objects.filter(verify_q(user))
        .select_related("area", "category", "holder_area", "holder_department", "holder_user")
        .order_by("resolved_at", "id")
    )


def verifies(user: Any) -> bool:
    """Whether the user's role verifies at all (grid leaders and supervisors): the landing pages link the queue."""
    return bool(
        getattr(user, "is_authenticated", False) and getattr(user, "role", "") in (Role.GRID_LEADER, Role.SUPERVISOR)
    )
