"""Reads of the registry, every one filtered by the acting user's scope."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.scope import scope_for
from wangge.core.errors import NotFound, PermissionDenied
from wangge.registry import permissions
from wangge.registry.models import (
    LEVEL_DEPTH,
    Area,
    CareTag,
    Department,
    Household,
    HouseholdChange,
    HouseholdMember,
    HouseholdMoveRequest,
    Level,
    MemberStatus,
    MoveState,
)


def area_list(*, user: Any, level: str | None = None, parent: Area | None = None) -> QuerySet[Area]:
    """Areas inside the user's scope (departments see none)."""
    scope = scope_for(user)
    qs = Area.objects.filter(scope.area_q("path")).select_related("leader")
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent=parent)
    return qs.order_by("path")


def area_roots(*, user: Any) -> QuerySet[Area]:
    """The top areas of a user's scope (their own town, village or grid)."""
    scope = scope_for(user)
    if scope.is_global:
        return Area.objects.filter(parent__isnull=True).order_by("path")
    return Area.objects.filter(path__in=scope.area_paths).order_by("path")


def area_get(*, user: Any, pk: int) -> Area:
    """One area inside the user's scope, or NotFound (never reveal what lies outside)."""
    try:
        area = Area.objects.select_related("leader", "parent").get(pk=pk)
    except Area.DoesNotExist:
        raise NotFound(_("area not found")) from None
    if not scope_for(user).covers_path(area.path):
        raise NotFound(_("area not found"))
    return area


def area_breadcrumb(*, user: Any, area: Area) -> list[Area]:
    """The area's ancestors that the user may name (their own and those below), top first."""
    scope = scope_for(user)
    ancestors = {a.path: a for a in Area.objects.filter(path__in=area.ancestor_paths())}
    return [ancestors[p] for p in area.ancestor_paths() if p in ancestors and scope.covers_path(p)]


def household_list(
    *,
    user: Any,
    area: Area | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> QuerySet[Household]:
    """Households inside the user's scope, optionally below one area, with a care tag or matching words."""
    scope = scope_for(user)
    qs = Household.objects.filter(scope.area_q("area_path")).select_related("grid")
    if area is not None:
        qs = qs.filter(area_path__startswith=area.path)
    if tag:
        qs = qs.filter(care_tags__contains="," + tag + ",")
    if q:
        q = q.strip()
        cond = Q(address__icontains=q) | Q(head_name__icontains=q)
        if q.isdigit() and len(q) >= 7:
            cond |= Q(phone=q)
        qs = qs.filter(cond)
    return qs.order_by("area_path", "id")


def household_get(*, user: Any, pk: int) -> Household:
    try:
        household = Household.objects.select_related("grid").get(pk=pk)
    except Household.DoesNotExist:
        raise NotFound(_("household not found")) from None
    if not scope_for(user).covers_path(household.area_path):
        raise NotFound(_("household not found"))
    return household


def grids_outside_advised(*, user: Any, area: Area | None = None) -> QuerySet[Area]:
    """Micro-grids holding fewer than 10 or more than 15 households (the advised size)."""
    qs = area_list(user=user, level=Level.GRID)
    if area is not None:
        qs = qs.filter(path__startswith=area.path)
    return qs.filter(
        Q(household_count__lt=settings.GRID_ADVISED_MIN) | Q(household_count__gt=settings.GRID_ADVISED_MAX)
    )


def department_list(*, user: Any) -> QuerySet[Department]:
    """Departments the user may see: their own, or all of a city they cover."""
    scope = scope_for(user)
    return Department.objects.filter(scope.department_q("id") | scope.area_q("area_path")).order_by("code")


# --- public place names (the resident's picker; no account, names only) -------------------------
# Area names are public (printed on every grid's QR sheet), so these take no user; nothing below a
# grid (households, people) is ever read here.


def public_towns() -> QuerySet[Area]:
    """Every town or street, for the resident's first select."""
    return Area.objects.filter(level=Level.TOWN).order_by("path")


def public_villages_of(town_id: object) -> QuerySet[Area]:
    """The villages of one town (none for an unknown or malformed id)."""
    text = str(town_id or "")
    if not text.isdigit():
        return Area.objects.none()
    return Area.objects.filter(level=Level.VILLAGE, parent_id=int(text), parent__level=Level.TOWN).order_by("path")


def public_grids_of(village_id: object) -> QuerySet[Area]:
    """The micro-grids of one village (none for an unknown or malformed id)."""
    text = str(village_id or "")
    village = Area.objects.filter(pk=int(text), level=Level.VILLAGE).only("path").first() if text.isdigit() else None
    if village is None:
        return Area.objects.none()
    return Area.objects.filter(level=Level.GRID, path__startswith=village.path).order_by("path")


def public_grid_by_code(code: str) -> tuple[Area | None, list[Area]]:
    """The grid named by a QR code, with its ancestors' names (town, village…) for the resident to check."""
    if not code:
        return None, []
    grid = Area.objects.filter(code=code, level=Level.GRID).select_related("leader").first()
    if grid is None:
        return None, []
    above = list(Area.objects.filter(path__in=grid.ancestor_paths()[1:-1]).order_by("depth"))
    return grid, above


# --- the register kept by grid leaders: history and the village's move queue ----------------------

FIELD_LABELS: dict[str, Any] = {
    "address": _("Address"),
    "head_name": _("Head of household"),
    "head_id_number": _("Head's ID number"),
    "phone": _("Phone"),
    "members": _("Members"),
    "care_tags": _("Care tags"),
    "moved_out": _("Moved out"),
    "head_deceased": _("Head deceased"),
    "grid": _("Micro-grid"),
    "person": _("Person"),
}


def _shown(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if field == "person" and isinstance(value, dict):
        status = dict(MemberStatus.choices).get(value.get("status", ""), value.get("status", ""))
        relation = value.get("relation") or ""
        return f"{value.get('name', '')}{'（' + relation + '）' if relation else ''} {status}"
    if field == "care_tags":
        labels = dict(CareTag.choices)
        return "、".join(str(labels.get(t, t)) for t in value)
    return str(value)


def household_history(*, household: Household) -> list[dict[str, Any]]:
    """The household's changes, newest first, each field with its label and masked old and new values.

    The caller has already read the household through `household_get` (the history is as visible as it).
    """
    changes = HouseholdChange.objects.filter(household=household).select_related("changed_by")[:200]
    return [
        {
            "change": c,
            "lines": [
                {
                    "label": FIELD_LABELS.get(line.get("field", ""), line.get("field", "")),
                    "old": _shown(line.get("field", ""), line.get("old")),
                    "new": _shown(line.get("field", ""), line.get("new")),
                }
                for line in c.fields or []
            ],
        }
        for c in changes
    ]


def household_for_edit(*, user: Any, pk: int) -> Household:
    """A household the user may change: NotFound outside their areas, PermissionDenied for readers."""
    household = household_get(user=user, pk=pk)
    if not permissions.can_edit_household(user, household.area_path):
        raise PermissionDenied(_("your account may not change the household register"))
    return household


def move_targets(*, household: Household) -> QuerySet[Area]:
    """The other micro-grids of the household's village (where a leader may propose to move it)."""
    parts = household.area_path.rstrip("/").split("/")
    village = "/".join(parts[: LEVEL_DEPTH[Level.VILLAGE] + 1]) + "/"
    grids = Area.objects.filter(level=Level.GRID, path__startswith=village)
    return grids.exclude(pk=household.grid_id).order_by("path")


def pending_move(*, household: Household) -> HouseholdMoveRequest | None:
    return (
        HouseholdMoveRequest.objects.filter(household=household, state=MoveState.PENDING)
        .select_related("to_grid", "proposed_by")
        .first()
    )


def move_queue(*, user: Any) -> QuerySet[HouseholdMoveRequest]:
    """Moves waiting for a decision that the user may take (the village's 待审批 list), oldest first."""
    return (
        HouseholdMoveRequest.objects.filter(permissions.move_decide_q(user), state=MoveState.PENDING)
        .select_related("household", "from_grid", "to_grid", "proposed_by")
        .order_by("proposed_at", "id")
    )


def move_request_get(*, user: Any, pk: int) -> HouseholdMoveRequest:
    """One move request whose household lies in the user's areas, or NotFound."""
    found = HouseholdMoveRequest.objects.select_related("to_grid").filter(pk=pk).first()
    if found is None or not permissions.sees_household(user, found.area_path):
        raise NotFound(_("move request not found"))
    return found


def household_people(*, household: Household) -> QuerySet[HouseholdMember]:
    """The household's people besides its head (the caller read the household through `household_get`)."""
    return HouseholdMember.objects.filter(household=household).order_by("id")
