"""Reads of one-stop services, every personal one filtered by the acting user's scope.

The catalogue (items, bundles, their figures) is public information and not scoped. Applications
are seen by the staff of their service point and the areas above it; department staff see only
their department's tasks, with only the facts their item needs and ID numbers masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.core.masking import decrypt, mask_id_number
from wangge.holidays import workdays
from wangge.onestop.facts import APPLICANT_KEYS, FACTS, masked, ordered_keys
from wangge.onestop.figures import (
    Figures,
    bundle_items,
    combined_facts,
    combined_materials,
    figures_for,
    keeps_promise,
)
from wangge.onestop.models import (
    Application,
    ApplicationTask,
    AppState,
    BundleItem,
    Material,
    ServiceBundle,
    ServiceItem,
)
from wangge.registry.models import Area, Level


def bundle_queryset() -> QuerySet[ServiceBundle]:
    return ServiceBundle.objects.prefetch_related(
        Prefetch(
            "bundle_items",
            queryset=BundleItem.objects.select_related("item__department", "item__produces").prefetch_related(
                "item__materials"
            ),
        )
    )


@dataclass
class BundleView:
    """A bundle with what its pages show: figures, promise kept, combined form and materials."""

    bundle: ServiceBundle
    items: list[ServiceItem]
    figures: Figures
    promise: dict[str, bool]
    facts: list[Any]
    materials: list[Material]

    @property
    def village_ok(self) -> bool:
        return all(i.village_ok for i in self.items)

    @property
    def departments(self) -> list[str]:
        return list(dict.fromkeys(i.department.name for i in self.items))


def _view(bundle: ServiceBundle) -> BundleView:
    items = bundle_items(bundle)
    figures = figures_for(items)
    return BundleView(
        bundle=bundle,
        items=items,
        figures=figures,
        promise=keeps_promise(bundle, figures),
        facts=combined_facts(items),
        materials=combined_materials(items),
    )


def bundle_list() -> list[BundleView]:
    """Active bundles with their computed figures (public information)."""
    return [_view(b) for b in bundle_queryset().filter(is_active=True)]


def bundle_get(*, pk: int | str) -> BundleView:
    try:
        bundle = bundle_queryset().get(pk=int(pk), is_active=True)
    except (ServiceBundle.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("bundle not found"), field="bundle") from None
    return _view(bundle)


def item_list(*, village_ok: bool | None = None, q: str = "") -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.filter(is_active=True).select_related("department").prefetch_related("materials")
    if village_ok is not None:
        qs = qs.filter(village_ok=village_ok)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(department__name__icontains=q) | Q(code__icontains=q))
    return qs.order_by("code")


def service_points(*, user: Any) -> QuerySet[Area]:
    """Towns and villages where this user may take applications."""
    scope = scope_for(user)
    return Area.objects.filter(scope.area_q("path"), level__in=[Level.TOWN, Level.VILLAGE]).order_by("path")


def point_get(*, user: Any, pk: int | str) -> Area:
    try:
        area = Area.objects.get(pk=int(pk), level__in=[Level.TOWN, Level.VILLAGE])
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("service point not found"), field="point") from None
    if not scope_for(user).covers_path(area.path):
        raise NotFound(_("service point not found"), field="point")
    return area


# --- applications ------------------------------------------------------------------------------


def application_list(*, user: Any, state: str | None = None, q: str = "") -> QuerySet[Application]:
    """Applications at service points inside the user's areas (departments: none; they see tasks)."""
    scope = scope_for(user)
    qs = Application.objects.filter(scope.area_q("area_path")).select_related("bundle", "point")
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(applicant_name__icontains=q))
    return qs.order_by("-created_at", "-id")


def application_get(*, user: Any, pk: int) -> Application:
    try:
        application = Application.objects.select_related("bundle", "point", "identity_verified_by").get(pk=pk)
    except Application.DoesNotExist:
        raise NotFound(_("application not found")) from None
    if not scope_for(user).covers_path(application.area_path):
        raise NotFound(_("application not found"))
    return application


@dataclass
class Timing:
    """Elapsed working time against the limit (in working days) and whether it is on time."""

    elapsed_days: float
    limit_days: int
    due_at: dt.datetime | None
    overdue: bool

    @property
    def share(self) -> float:
        return min(1.0, self.elapsed_days / self.limit_days) if self.limit_days else (1.0 if self.elapsed_days else 0.0)

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def timing(application: Application, *, at: dt.datetime | None = None) -> Timing | None:
    if application.submitted_at is None or application.limit_days is None:
        return None
    end = application.issued_at or at or clock.now()
    return Timing(
        elapsed_days=round(workdays.working_days_between(application.submitted_at, end), 2),
        limit_days=application.limit_days,
        due_at=application.due_at,
        overdue=bool(application.due_at and end > application.due_at),
    )


def applicant_facts(application: Application, keys: list[str] | None = None) -> list[tuple[Any, str]]:
    """(fact, value shown) for the given keys (all by default): the ID masked, never in clear."""
    shown = masked(application.facts)
    shown["applicant_name"] = application.applicant_name
    shown["phone"] = application.phone_masked
    shown["id_number"] = mask_id_number(decrypt(application.applicant_id_enc))
    wanted = keys if keys is not None else [*APPLICANT_KEYS, *application.facts]
    return [(FACTS[k], shown.get(k, "")) for k in ordered_keys(wanted) if k in FACTS]


def application_tasks(application: Application) -> list[ApplicationTask]:
    return list(
        application.tasks.select_related("item", "department", "accepted_by", "completed_by").order_by("position")
    )


# --- department tasks --------------------------------------------------------------------------


def task_list(*, user: Any, state: str | None = None) -> QuerySet[ApplicationTask]:
    """A department's queue; window staff see the tasks of their own applications."""
    scope = scope_for(user)
    qs = ApplicationTask.objects.filter(
        scope.department_q("department_id") | scope.area_q("application__area_path")
    ).select_related("application__bundle", "application__point", "item", "department")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("due_at", "id")


def task_get(*, user: Any, pk: int) -> ApplicationTask:
    try:
        task = ApplicationTask.objects.select_related(
            "application__bundle", "application__point", "item", "department", "accepted_by", "completed_by"
        ).get(pk=pk)
    except ApplicationTask.DoesNotExist:
        raise NotFound(_("task not found")) from None
    scope = scope_for(user)
    if not (scope.covers_department(task.department_id) or scope.covers_path(task.application.area_path)):
        raise NotFound(_("task not found"))
    return task


# --- public figures ------------------------------------------------------------------------------


def public_bundles() -> list[dict[str, Any]]:
    """Each bundle's figures and the average elapsed working days of its issued applications; no personal data."""
    stats = {
        row["bundle_id"]: row
        for row in Application.objects.filter(state=AppState.ISSUED)
        .values("bundle_id")
        .annotate(issued=Count("id"), avg_days=Avg("elapsed_days"))
    }
    out = []
    for view in bundle_list():
        row = stats.get(view.bundle.pk, {})
        avg = row.get("avg_days")
        out.append(
            {"view": view, "issued": row.get("issued", 0), "avg_days": round(avg, 2) if avg is not None else None}
        )
    return out
