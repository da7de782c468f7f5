"""Reads of co-handling (协办): a demand's tasks, and the tasks awaiting a department's reply.

Whose tasks these are is `permissions.assisting_q` (the one rule); the landing page counts
`assist_tasks(user=)` and the 协办任务 page lists the same rows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from wangge.demands.models import Demand, DemandAssist
from wangge.demands.permissions import assisting_q


def demand_assists(*, demand: Demand) -> QuerySet[DemandAssist]:
    """Every co-handling task of `demand`, oldest first, with its department and the people who wrote."""
    return (
        DemandAssist.objects.filter(demand=demand)
        .select_related("department", "assigned_by", "replied_by")
        .order_by("assigned_at", "id")
    )


def assist_tasks(*, user: Any, waiting: bool = True) -> QuerySet[DemandAssist]:
    """Co-handling tasks of the user's departments (only those awaiting a reply when `waiting`), oldest first."""
    qs = DemandAssist.objects.filter(assisting_q(user))
    if waiting:
        qs = qs.filter(replied_at__isnull=True)
    return qs.select_related(
        "demand", "demand__area", "demand__holder_area", "demand__holder_department", "department"
    ).order_by("assigned_at", "id")
