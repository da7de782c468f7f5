"""Reads of demands, every one filtered by the acting user's scope (or by the resident's token).

Area staff see demands that belong to or are held in their areas; department staff see those held
by or dispatched to their department; a resident sees one demand through its private token.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.demands.models import OPEN_STATES, WAITING_STATES, Category, Demand, DemandEvent, State
from wangge.registry.models import Area


def visible_q(user: Any) -> Q:
    """Demands a user may see: belonging to or held in their areas, or held by or sent to their department."""
    scope = scope_for(user)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if scope.is_global:
        return Q()
    q = Q(pk__in=[])
    if scope.area_paths:
        q |= scope.area_q("area_path") | scope.area_q("holder_path")
    if scope.department_ids:
        q |= scope.department_q("holder_department_id") | scope.department_q("dispatched_department_id")
    return q


def _base() -> QuerySet[Demand]:
    return Demand.objects.select_related("category", "area", "holder_area", "holder_department", "holder_user")


def demand_list(
    *,
    user: Any,
    state: str | list[str] | None = None,
    category: Any = None,
    urgency: str | None = None,
    overdue: bool | None = None,
    area: Area | None = None,
    channel: str | None = None,
    q: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Demand]:
    """Demands inside the user's scope, newest first, with the filters of the worklists."""
    qs = _base().filter(visible_q(user))
    if state:
        qs = qs.filter(state__in=[state] if isinstance(state, str) else list(state))
    if category:
        if isinstance(category, Category):
            qs = qs.filter(Q(category=category) | Q(category__parent=category))
        else:
            qs = qs.filter(Q(category__code=str(category)) | Q(category__parent__code=str(category)))
    if urgency:
        qs = qs.filter(urgency=urgency)
    if channel:
        qs = qs.filter(channel=channel)
    if area is not None:
        qs = qs.filter(Q(area_path__startswith=area.path) | Q(holder_path__startswith=area.path))
    if overdue is not None:
        now = clock.now()
        late = Q(state__in=OPEN_STATES) & (
            Q(resolve_due_at__lt=now) | Q(state__in=WAITING_STATES, accept_due_at__lt=now)
        )
        qs = qs.filter(late) if overdue else qs.exclude(late)
    if q:
        q = q.strip()
        qs = qs.filter(
            Q(code__iexact=q) | Q(title__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q)
        )
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    return qs.order_by("-created_at", "-id")


def demand_get(*, user: Any, pk: int) -> Demand:
    """One demand inside the user's scope, or NotFound (never reveal what lies outside)."""
    demand = _base().filter(visible_q(user), pk=pk).first()
    if demand is None:
        raise NotFound("找不到该诉求", "demand not found")
    return demand


def demand_by_token(*, token: str) -> Demand:
    """The demand a resident follows by its private token; NotFound for a forged one."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    demand = _base().filter(tracking_token=token).first()
    # Compare in constant time as well, so the answer never depends on how much of a guess was right.
    if demand is None or not hmac.compare_digest(demand.tracking_token.encode(), token.encode()):
        raise NotFound("跟踪链接无效或已失效", "the tracking link is not valid")
    return demand


def demand_timeline(*, demand: Demand, public: bool = False) -> QuerySet[DemandEvent]:
    """The demand's events in order with their photos; `public` keeps only what the resident may see."""
    qs = (
        DemandEvent.objects.filter(demand=demand)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )
    if public:
        qs = qs.filter(is_public=True)
    return qs


def my_queue(*, user: Any) -> QuerySet[Demand]:
    """Open demands that the user's level or department holds: waiting to be accepted, or in hand."""
    scope = scope_for(user)
    if user is None or not getattr(user, "is_authenticated", False) or user.role == Role.AUDITOR:
        return Demand.objects.none()
    cond = Q(pk__in=[])
    if user.role == Role.DEPARTMENT and scope.department_ids:
        cond |= Q(holder_department_id__in=list(scope.department_ids))
    elif scope.area_paths:
        from wangge.accounts.models import ROLE_LEVEL

        cond |= Q(
            holder_path__in=list(scope.area_paths),
            holder_level=ROLE_LEVEL.get(user.role, ""),
            holder_department__isnull=True,
        )
    return _base().filter(cond, state__in=OPEN_STATES).order_by("resolve_due_at", "id")


def category_tree() -> list[Category]:
    """Active top-level categories, each with its active children prefetched (`children_active`)."""
    children = Prefetch(
        "children", queryset=Category.objects.filter(is_active=True).order_by("sort", "code"), to_attr="children_active"
    )
    return list(
        Category.objects.filter(parent__isnull=True, is_active=True).order_by("sort", "code").prefetch_related(children)
    )


def category_choices() -> list[Category]:
    """Active second-level categories (what a demand is filed under), in catalogue order."""
    return list(
        Category.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("parent__sort", "sort", "code")
    )


__all__ = [
    "State",
    "category_choices",
    "category_tree",
    "demand_by_token",
    "demand_get",
    "demand_list",
    "demand_timeline",
    "my_queue",
]
