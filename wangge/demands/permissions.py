"""Who may see, hold and act on a demand: the one place for the rule.

A demand is held either by an area level or by a department. An area level is held by the staff
whose role is that level (`ROLE_LEVEL`) and whose scope names exactly the holding area: a town
officer scoped to a town does not hold what one of its grids holds. A department is held by the
department staff scoped to it. Auditors read and never hold.

Each rule comes in the forms its callers need, kept side by side so that they cannot drift apart
(`wangge/demands/tests/test_permissions.py` checks every role against every holder level):

- `held_q(user)` / `can_hold(demand=, user=)`: the queryset filter and the predicate on one demand;
- `visible_q(user)` / `can_see(demand=, user=)`: the same for seeing a demand;
- `holder_candidates(area=, department=)`: the users who may hold a demand held there
  (reassignment choices and the staff told of a new arrival);
- `can_call_back(demand=, user=)`: who may record a call back (回访) on a resolved demand;
- `offerable_q(user)` / `is_confidential(demand)`: a whistleblower's report (举报) is never offered as a
  possible duplicate, nor followed, by anyone but its holders (`user` None: an anonymous resident).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from wangge.accounts.models import ROLE_LEVEL, Role, User
from wangge.accounts.scope import scope_for
from wangge.demands.models import CALL_BACK_CHANNELS, Demand, Kind, State
from wangge.registry.models import Area

_NOTHING = Q(pk__in=[])


def is_staff(user: Any) -> bool:
    """A signed-in, active account (residents act by token and are never `user`s here)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _holding_level(user: Any) -> str | None:
    """The area level whose demands `user` holds, or None for roles that hold no area level."""
    if user.role in (Role.AUDITOR, Role.DEPARTMENT):
        return None
    return ROLE_LEVEL.get(user.role)


# --- holding ------------------------------------------------------------------------------


def held_q(user: Any) -> Q:
    """Demands that `user` holds now (as staff of the holding level or department), in any state."""
    if not is_staff(user) or user.role == Role.AUDITOR:
        return _NOTHING
    scope = scope_for(user)
    if user.role == Role.DEPARTMENT:
        if not scope.department_ids:
            return _NOTHING
        return Q(holder_department_id__in=list(scope.department_ids))
    level = _holding_level(user)
    if level is None or not scope.area_paths:
        return _NOTHING
    return Q(holder_path__in=list(scope.area_paths), holder_level=level, holder_department__isnull=True)


def can_hold(*, demand: Demand, user: Any) -> bool:
    """True when `user` holds `demand`: the same rule as `held_q`, on one demand already in memory."""
    if not is_staff(user) or user.role == Role.AUDITOR:
        return False
    scope = scope_for(user)
    if demand.holder_department_id:
        return user.role == Role.DEPARTMENT and demand.holder_department_id in scope.department_ids
    level = _holding_level(user)
    if level is None or not demand.holder_path:
        return False
    return demand.holder_level == level and demand.holder_path in scope.area_paths


# --- seeing -------------------------------------------------------------------------------


def visible_q(user: Any) -> Q:
    """Demands a user may see: belonging to or held in their areas, or held by or sent to their department."""
    if not is_staff(user):
        return _NOTHING
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q = _NOTHING
    if scope.area_paths:
        q |= scope.area_q("area_path") | scope.area_q("holder_path")
    if scope.department_ids:
        q |= scope.department_q("holder_department_id") | scope.department_q("dispatched_department_id")
    return q


def can_see(*, demand: Demand, user: Any) -> bool:
    """True when `user` may see `demand`: the same rule as `visible_q`, on one demand already in memory."""
    if not is_staff(user):
        return False
    scope = scope_for(user)
    if scope.is_global:
        return True
    if scope.covers_path(demand.area_path) or (demand.holder_path and scope.covers_path(demand.holder_path)):
        return True
    departments = set(scope.department_ids)
    return bool(departments) and bool({demand.holder_department_id, demand.dispatched_department_id} & departments)


# --- confidential demands (举报) -----------------------------------------------------------

# Kinds whose very existence stays with their holders: a report names someone who must not learn of it.
CONFIDENTIAL_KINDS = (Kind.REPORT,)


def is_confidential(demand: Demand) -> bool:
    """True for a demand that only its holders may be offered or let anyone follow."""
    return demand.kind in CONFIDENTIAL_KINDS


def offerable_q(user: Any = None) -> Q:
    """Demands that may be offered to `user` as a possible duplicate: not confidential, or held by `user`."""
    return ~Q(kind__in=CONFIDENTIAL_KINDS) | held_q(user)


# --- who could hold -----------------------------------------------------------------------


def holder_candidates(*, area: Area | None = None, department_id: int | None = None) -> QuerySet[User]:
    """Active users who would hold a demand held by `department_id`, or else by `area`.

    Department staff scoped to that department; for an area, staff whose role is the area's level
    and whose scope names that very area. None of both gives nobody.
    """
    users = get_user_model().objects.filter(is_active=True)
    if department_id is not None:
        users = users.filter(role=Role.DEPARTMENT, scopes__department_id=department_id)
    elif area is not None:
        roles = [role for role, level in ROLE_LEVEL.items() if level == area.level and role != Role.AUDITOR]
        users = users.filter(role__in=roles, scopes__area_id=area.pk)
    else:
        return users.none()
    return users.distinct()


def demand_holder_candidates(*, demand: Demand) -> QuerySet[User]:
    """Who may hold `demand` where it is held now (the department if one holds it, else the area level)."""
    if demand.holder_department_id:
        return holder_candidates(department_id=demand.holder_department_id)
    if demand.holder_area_id:
        return holder_candidates(area=demand.holder_area)
    return get_user_model().objects.none()


# --- calling back -------------------------------------------------------------------------


def call_back_area(demand: Demand) -> Area | None:
    """The level above the resolver: the parent of the holding area, or the dispatching area when a
    department resolved it (a department answers to the level that dispatched it)."""
    area = demand.holder_area
    if area is None:
        return None
    if demand.holder_department_id:
        return area
    return Area.objects.filter(pk=area.parent_id).first() if area.parent_id else None


def can_call_back(*, demand: Demand, user: Any) -> bool:
    """True when `user` may record a call back (回访) on `demand` now.

    Only resolved demands that came in by a channel other than the resident page. Decided in this
    version: no separate "call-back clerk" role; the staff holding the level above the resolver (the
    same rule as `can_hold`, applied to that area) and city administrators call back. A clerk role
    would need its own scope rules and persona in the scope walk; the city administrator covers the
    county's call-back desk (回访员) meanwhile.
    """
    if not is_staff(user) or user.role in (Role.AUDITOR, Role.INTEGRATION, Role.DEPARTMENT):
        return False
    if demand.state != State.RESOLVED or demand.channel not in CALL_BACK_CHANNELS:
        return False
    if user.role == Role.CITY_ADMIN and can_see(demand=demand, user=user):
        return True
    above = call_back_area(demand)
    if above is None:
        return False
    return _holding_level(user) == above.level and above.path in scope_for(user).area_paths
