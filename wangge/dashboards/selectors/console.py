"""The staff console: its queue of demands, filter choices and the user's exports."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core.errors import NotFound
from wangge.dashboards.measures import level_of_path
from wangge.dashboards.models import ExportJob
from wangge.demands import permissions as demand_permissions
from wangge.demands import selectors as demand_selectors
from wangge.demands.models import Demand
from wangge.registry.models import Area, Department, Level

# --- console ----------------------------------------------------------------------------------


def held_q(user: Any) -> Q:
    """Demands the user's level or department holds now (the holder may see the reporter's phone)."""
    return demand_permissions.held_q(user)


def below_q(user: Any) -> Q:
    """Demands held at the user's level or below (or by the user's department)."""
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q = Q(pk__in=[])
    if scope.area_paths:
        # A department's demands keep the dispatching level's path: the level still follows them.
        q |= scope.area_q("holder_path")
    if scope.department_ids:
        q |= scope.department_q("holder_department_id")
    return q


CONSOLE_VIEWS = ("queue", "mine", "all")


def console_view(value: Any) -> str:
    """The console's `view` parameter; anything else shows everything in scope."""
    return value if value in CONSOLE_VIEWS else "all"


def console_list(*, user: Any, filters: demand_selectors.DemandFilter, view: str = "queue") -> QuerySet[Demand]:
    """The console's queue: demands in scope with the demand filters (search by code, exact phone or words).

    `view`: "queue" (unfinished, suspended too, held at my level or below: the default), "mine" (held by my level or
    department now), "all" (everything in scope).
    """
    qs = demand_selectors.demand_list(user=user, filters=filters)
    # The queues read the partial indexes over unfinished demands (demands.models: demand_unfinished_*).
    if view == "queue":
        qs = demand_selectors.unfinished(qs.filter(below_q(user)))
    elif view == "mine":
        qs = demand_selectors.unfinished(qs.filter(held_q(user)))
    # Category.__str__ names the parent: fetch it with the page, not once per row.
    return qs.select_related("category__parent")


def console_areas(*, user: Any) -> QuerySet[Area]:
    """Areas to filter the console by: towns, villages and branches inside the scope."""
    scope = scope_for(user)
    levels = (
        [Level.TOWN, Level.VILLAGE]
        if scope.is_global or user.role == Role.CITY_ADMIN
        else [
            Level.TOWN,
            Level.VILLAGE,
            Level.BRANCH,
        ]
    )
    return Area.objects.filter(scope.area_q("path"), level__in=levels).order_by("path")[:600]


def console_departments(*, user: Any) -> list[Department]:
    """Departments the user may dispatch to: those of the cities of the user's areas."""
    scope = scope_for(user)
    cities = {p.split("/", 1)[0] + "/" for p in scope.area_paths}
    qs = Department.objects.filter(is_active=True)
    if not scope.is_global:
        qs = qs.filter(area_path__in=cities)
    return list(qs.order_by("code"))


def export_jobs(*, user: Any) -> QuerySet[ExportJob]:
    """The user's own exports (nobody else's, whatever their role)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_get(*, user: Any, pk: int) -> ExportJob:
    job = export_jobs(user=user).filter(pk=pk).first()
    if job is None:
        raise NotFound(gettext_lazy("export not found"))
    return job


def level_of(area: Area) -> str:
    return level_of_path(area.path)
