"""Who may change the household register, and who decides a household's move between grids.

The one home of these rules: the register services refuse through them, pages show their buttons
through them, and the move queue lists what `move_decide_q` lets its reader decide.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for

# Staff who keep households up to date in their areas (an auditor or department never does).
EDIT_ROLES = frozenset({Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN})
# The village decides a move between its grids; the town may stand in for a village without staff.
DECIDE_ROLES = frozenset({Role.VILLAGE, Role.TOWN})


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def sees_household(user: Any, area_path: str) -> bool:
    return _active(user) and scope_for(user).covers_path(area_path)


def can_edit_household(user: Any, area_path: str) -> bool:
    """A writer whose scope covers the household (by its area path)."""
    if not sees_household(user, area_path):
        return False
    scope = scope_for(user)
    return not scope.read_only and (user.is_superuser or user.role in EDIT_ROLES)


def can_decide_move(user: Any, from_path: str, to_path: str) -> bool:
    """Village (or town) staff whose scope covers both the household's grid and the grid it moves to."""
    if not (sees_household(user, from_path) and sees_household(user, to_path)):
        return False
    scope = scope_for(user)
    return not scope.read_only and (user.is_superuser or user.role in DECIDE_ROLES)


def move_decide_q(user: Any) -> Q:
    """The move requests `user` may decide, as a filter (agrees with `can_decide_move`: a test proves it)."""
    if not _active(user):
        return Q(pk__in=[])
    scope = scope_for(user)
    if scope.read_only or not (user.is_superuser or user.role in DECIDE_ROLES):
        return Q(pk__in=[])
    return scope.area_q("area_path") & scope.area_q("to_grid__path")
