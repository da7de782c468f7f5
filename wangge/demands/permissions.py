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
- `moderation_q(user)` / `can_moderate(demand=, user=)` / `reads_moderation(user)`: who decides what
  the public sees of a demand (公开审核).
- `approver_area(demand)`, `decide_q(user)` / `can_decide_request(request=, user=)`: who decides a holder's
  request for an extension (延期) or a suspension (挂起);
- `can_urge(demand=, user=)`: who may urge (督办/催办) the holder: the levels above it;
- `assisting_q(user)` / `can_reply_assist(assist=, user=)`: the co-handling tasks (协办) of the user's
  departments; staff of an assisting department see the demand (part of `visible_q`/`can_see`) and
  never hold it;
- `verify_q(user)` / `can_verify(demand=, user=)` / `verifier_candidates(demand=)`: who verifies (核查) a
  resolved demand of a category that needs verification before it counts as resolved;
- `offerable_q(user)` / `is_confidential(demand)` / `confidential_q()`: a whistleblower's report (举报), or a
  demand its reporter asked to keep confidential (保密), is never published, offered as a possible
  duplicate, nor followed, by anyone but its holders (`user` None: an anonymous resident).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from wangge.accounts.models import ROLE_LEVEL, Role, User
from wangge.accounts.scope import scope_for
from wangge.demands.models import CALL_BACK_CHANNELS, Demand, DemandAssist, DemandRequest, Kind, State
from wangge.registry.models import LEVEL_DEPTH, Area, Level

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
        # 协办: a subquery, not a join, so that a demand with several assistants is listed once.
        q |= Q(pk__in=DemandAssist.objects.filter(department_id__in=list(scope.department_ids)).values("demand_id"))
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
    if not departments:
        return False
    if {demand.holder_department_id, demand.dispatched_department_id} & departments:
        return True
    return DemandAssist.objects.filter(demand_id=demand.pk, department_id__in=departments).exists()


# --- confidential demands (举报, 保密) -------------------------------------------------------

# Kinds whose very existence stays with their holders: a report names someone who must not learn of it.
CONFIDENTIAL_KINDS = (Kind.REPORT,)


def is_confidential(demand: Demand) -> bool:
    """True for a demand that stays with its holders: a report (举报), or one its reporter asked to keep
    confidential (保密). It is never published, offered as a possible duplicate, or followed."""
    return demand.kind in CONFIDENTIAL_KINDS or demand.confidential


def confidential_q() -> Q:
    """The demands `is_confidential` is true of."""
    return Q(kind__in=CONFIDENTIAL_KINDS) | Q(confidential=True)


def offerable_q(user: Any = None) -> Q:
    """Demands that may be offered to `user` as a possible duplicate: not confidential, or held by `user`."""
    return ~confidential_q() | held_q(user)


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


# Roles that call back every resolved demand they see, whoever resolved it.
CALL_BACK_DESK = (Role.CITY_ADMIN, Role.CALL_BACK_CLERK)


def calls_back(user: Any) -> bool:
    """True for the call-back desk (the landing page shows them the 待回访 list)."""
    return is_staff(user) and user.role in CALL_BACK_DESK


def can_call_back(*, demand: Demand, user: Any) -> bool:
    """True when `user` may record a call back (回访) on `demand` now.

    Only resolved demands that came in by a channel other than the resident page. Who calls back: the
    staff holding the level above the resolver (the same rule as `can_hold`, applied to that area), and
    city administrators and call-back clerks (回访员, the call-back desk) for every such demand they see.
    """
    if not is_staff(user) or user.role in (Role.AUDITOR, Role.INTEGRATION, Role.DEPARTMENT):
        return False
    if demand.state != State.RESOLVED or demand.channel not in CALL_BACK_CHANNELS:
        return False
    if user.role in CALL_BACK_DESK and can_see(demand=demand, user=user):
        return True
    above = call_back_area(demand)
    if above is None:
        return False
    return _holding_level(user) == above.level and above.path in scope_for(user).area_paths


# --- publishing (公开审核) ------------------------------------------------------------------

# Decided in this version: town staff and city administrators decide what the public reads, for the
# demands of the areas their scope covers (where the demand belongs, not who holds it). Grid leaders,
# branches and villages are too close to the reporter, departments hold work and not places; auditors
# read the queue and decide nothing.
MODERATOR_ROLES = (Role.TOWN, Role.CITY_ADMIN)


def reads_moderation(user: Any) -> bool:
    """True when `user` may open the moderation queue (moderators, and auditors to read it)."""
    return is_staff(user) and (user.is_superuser or user.role in (*MODERATOR_ROLES, Role.AUDITOR))


def moderation_q(user: Any) -> Q:
    """Demands in `user`'s moderation queue: those belonging to an area their scope covers."""
    if not reads_moderation(user):
        return _NOTHING
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    return scope.area_q("area_path") if scope.area_paths else _NOTHING


def can_moderate(*, demand: Demand, user: Any) -> bool:
    """True when `user` may approve or withhold the public text of `demand`: the rule of `moderation_q`,
    without auditors."""
    if not is_staff(user) or not (user.is_superuser or user.role in MODERATOR_ROLES):
        return False
    return scope_for(user).covers_path(demand.area_path)


# --- deciding requests (延期, 挂起) ------------------------------------------------------------


def approver_area(demand: Demand) -> Area | None:
    """Whose staff decide the holder's request: the area above the holder (the parent of the holding area,
    or the dispatching area when a department holds it). The city has nothing above it in the county, so
    a city holder's request is decided by the city's own staff."""
    area = demand.holder_area
    if area is None:
        return None
    if demand.holder_department_id or area.parent_id is None:
        return area
    return Area.objects.filter(pk=area.parent_id).first()


def _path_depth(path: str) -> int:
    """0 for the city's path, 4 for a grid's (each level's code ends with "/")."""
    return path.count("/") - 1


def _deciding_level(user: Any) -> int | None:
    """The depth of the level a user decides for (city 0 … grid 4), or None for roles that never decide."""
    if not is_staff(user) or user.role in (Role.AUDITOR, Role.INTEGRATION, Role.DEPARTMENT):
        return None
    level = _holding_level(user)
    return None if level is None else LEVEL_DEPTH[level]


def decide_q(user: Any) -> Q:
    """Requests (any state) that `user` decides: the same rule as `can_decide_request`, as a filter on
    `DemandRequest`. Their scope covers the approver area, and they work at that level or above."""
    depth = _deciding_level(user)
    if depth is None:
        return _NOTHING
    scope = scope_for(user)
    # At least depth + 1 codes in the path: the approver area is at the user's level or below it.
    deep_enough = Q(approver_path__regex=rf"^([^/]+/){{{depth + 1},}}$")
    if scope.is_global:
        return deep_enough
    return scope.area_q("approver_path") & deep_enough if scope.area_paths else _NOTHING


def can_decide_request(*, request: DemandRequest, user: Any) -> bool:
    """True when `user` decides `request`: the same rule as `decide_q`, on one request already in memory."""
    depth = _deciding_level(user)
    if depth is None or _path_depth(request.approver_path) < depth:
        return False
    return scope_for(user).covers_path(request.approver_path)


# --- urging (督办/催办) ---------------------------------------------------------------------

# Roles that urge: every area level's staff (auditors read; departments and API keys hold no level). A grid
# leader is above nobody, but urges the department it dispatched a demand to (网格直派).
_URGING_ROLES = frozenset({Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN})


def urging_path(*, demand: Demand, user: Any) -> str | None:
    """The path of the user's area from which they may urge `demand`, or None when they may not.

    An area holder is urged by staff of an area strictly above it (an ancestor of `holder_path`); a
    department by the level that dispatched it (`holder_path` stays the dispatcher's) and the levels
    above that. City administrators always may (a superuser counts as the city). Decided in this
    version: the urging user's own role is what names their level, so one person urges as one level.
    """
    if not is_staff(user) or user.role not in _URGING_ROLES:
        return None
    if not demand.holder_path:
        return None
    scope = scope_for(user)
    if scope.is_global:
        return demand.holder_path.split("/", 1)[0] + "/"
    strict = not demand.holder_department_id  # a department may be urged by the very level that dispatched it
    for path in scope.area_paths:
        if demand.holder_path.startswith(path) and not (strict and path == demand.holder_path):
            return path
    return None


def can_urge(*, demand: Demand, user: Any) -> bool:
    """True when `user` may urge (督办/催办) `demand`'s holder: a level above it (see `urging_path`).

    The state is the service's and the move table's business (only a running clock is urged)."""
    return urging_path(demand=demand, user=user) is not None


# --- co-handling (协办) ---------------------------------------------------------------------


def assisting_q(user: Any) -> Q:
    """Co-handling tasks (`DemandAssist` rows) of the user's departments, replied or not."""
    if not is_staff(user) or user.role != Role.DEPARTMENT:
        return _NOTHING
    departments = scope_for(user).department_ids
    return Q(department_id__in=list(departments)) if departments else _NOTHING


def can_reply_assist(*, assist: DemandAssist, user: Any) -> bool:
    """True when `user` is staff of the assisting department of `assist` (the same rule as `assisting_q`)."""
    if not is_staff(user) or user.role != Role.DEPARTMENT:
        return False
    return assist.department_id in scope_for(user).department_ids


# --- verifying (核查) ---------------------------------------------------------------------


def _verify_rule_q(user: Any) -> Q:
    """Where `user` verifies, whatever the demand's state (see `can_verify`)."""
    if not is_staff(user) or user.role not in (Role.GRID_LEADER, Role.SUPERVISOR):
        return _NOTHING
    scope = scope_for(user)
    if user.role == Role.SUPERVISOR:
        return _NOTHING if scope.is_empty else scope.area_q("area_path")
    if not scope.area_paths:
        return _NOTHING
    return Q(area_path__in=list(scope.area_paths), area__level=Level.GRID)


def verify_q(user: Any) -> Q:
    """Demands waiting for `user` to verify them (待核查): the same rule as `can_verify`."""
    rule = _verify_rule_q(user)
    if rule == _NOTHING:
        return _NOTHING
    return rule & Q(state=State.VERIFYING) & ~Q(holder_user_id=user.pk)


def can_verify(*, demand: Demand, user: Any) -> bool:
    """True when `user` may verify `demand` on site now (核查: confirm it, or send it back to its holder).

    Decided in this version: the grid leaders of the demand's own grid (staff of the grid-leader role
    scoped to the demand's area when that area is a micro-grid) and supervisors (监督核查员) whose scope
    covers the demand's area. Separation of duties: the person who resolved it (the holding person, set
    by the resolve and kept while it waits) never verifies their own work, so a grid leader who fixed
    a problem themselves leaves it to a colleague or a supervisor. Both verifiers already see the
    demand (`can_see`: its area is in their scope).
    """
    if not is_staff(user) or demand.state != State.VERIFYING or demand.holder_user_id == user.pk:
        return False
    if user.role == Role.SUPERVISOR:
        scope = scope_for(user)
        return not scope.is_empty and scope.covers_path(demand.area_path)
    if user.role != Role.GRID_LEADER:
        return False
    return demand.area.level == Level.GRID and demand.area_path in scope_for(user).area_paths


def verifier_candidates(*, demand: Demand) -> QuerySet[User]:
    """Active users who may verify `demand` (told when it waits for them): `can_verify`'s rule, as users.

    A superuser supervisor (global scope) verifies everywhere and is not told of every demand."""
    area = demand.area
    users = get_user_model().objects.filter(is_active=True)
    q = Q(role=Role.SUPERVISOR, scopes__area__path__in=area.ancestor_paths())
    if area.level == Level.GRID:
        q |= Q(role=Role.GRID_LEADER, scopes__area_id=area.pk)
    users = users.filter(q)
    if demand.holder_user_id:
        users = users.exclude(pk=demand.holder_user_id)
    return users.distinct()
