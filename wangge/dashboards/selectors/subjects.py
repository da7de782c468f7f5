"""Whose figures (an area or a department the user may see) and over which period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy, pgettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.dashboards.models import DemandRollup
from wangge.demands.models import Demand
from wangge.registry.models import Area, Department

# --- whose figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The area or department a dashboard shows."""

    area: Area | None = None
    department: Department | None = None

    @property
    def label(self) -> str:
        return self.area.name if self.area is not None else (self.department.name if self.department else "")

    @property
    def level(self) -> str:
        return self.area.level if self.area is not None else "department"

    def rollups(self) -> QuerySet[DemandRollup]:
        if self.area is not None:
            return DemandRollup.objects.filter(area=self.area)
        return DemandRollup.objects.filter(department=self.department)

    def demands(self) -> QuerySet[Demand]:
        """The subject's demands (for the live part): below the area, or sent to the department."""
        if self.area is not None:
            return Demand.objects.filter(area_path__startswith=self.area.path)
        return Demand.objects.filter(dispatched_department=self.department)


def _city_wide(user: Any) -> bool:
    return scope_for(user).is_global or getattr(user, "role", "") in (Role.CITY_ADMIN, Role.AUDITOR)


def subject_for(*, user: Any, area: int | str | None = None, department: int | str | None = None) -> Subject:
    """The subject asked for, if the user may see it; by default the user's own first area or department."""
    scope = scope_for(user)
    if department not in (None, ""):
        dept = Department.objects.filter(pk=int(department) if str(department).isdigit() else 0).first()
        if dept is None or not (scope.covers_department(dept.pk) or scope.covers_path(dept.area_path)):
            raise NotFound(pgettext_lazy("dashboard", "department not found"))
        return Subject(department=dept)
    if area not in (None, ""):
        found = Area.objects.filter(pk=int(area) if str(area).isdigit() else 0).first()
        if found is None or not scope.covers_path(found.path):
            raise NotFound(gettext_lazy("area not found"))
        return Subject(area=found)
    if scope.is_global:
        root = Area.objects.filter(parent__isnull=True).order_by("path").first()
    else:
        root = Area.objects.filter(path__in=scope.area_paths).order_by("depth", "path").first()
    if root is not None:
        return Subject(area=root)
    if scope.department_ids:
        return Subject(department=Department.objects.get(pk=scope.department_ids[0]))
    raise NotFound(gettext_lazy("no area or department is assigned to you"))


def breadcrumb(*, user: Any, subject: Subject) -> list[Area]:
    """The subject's ancestors the user may open (drill-down back up), top first, itself last."""
    if subject.area is None:
        return []
    scope = scope_for(user)
    ancestors = {a.path: a for a in Area.objects.filter(path__in=subject.area.ancestor_paths())}
    return [ancestors[p] for p in subject.area.ancestor_paths() if p in ancestors and scope.covers_path(p)]


def departments_for(*, user: Any) -> list[Department]:
    """Departments whose dashboard the user may open."""
    scope = scope_for(user)
    return list(Department.objects.filter(scope.department_q("id") | scope.area_q("area_path")).order_by("code"))


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    name: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before; for a month, the same days of the month before."""
        if self.name == "month":
            last_of_previous = self.start - dt.timedelta(days=1)
            first = last_of_previous.replace(day=1)
            # Month to date against the same days of last month (1–13 March against 1–13 February).
            return Period(first, min(last_of_previous, first + (self.end - self.start)), "month")
        if self.name == "week":
            # Week to date against the same weekdays of last week.
            return Period(self.start - dt.timedelta(days=7), self.end - dt.timedelta(days=7), "week")
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1), self.name)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def period_from(name: str | None, start: str | None = None, end: str | None = None) -> Period:
    """today, week (Monday to today), month (1st to today), 30d, year, or custom start/end."""
    today = clock.today_local()
    name = name or "month"
    if name == "today":
        return Period(today, today, "today")
    if name == "week":
        return Period(today - dt.timedelta(days=today.weekday()), today, "week")
    if name == "30d":
        return Period(today - dt.timedelta(days=29), today, "30d")
    if name == "year":
        return Period(today.replace(month=1, day=1), today, "year")
    if name == "custom":
        try:
            first = dt.date.fromisoformat(start or "")
            last = dt.date.fromisoformat(end or "")
        except ValueError:
            from wangge.core.errors import ValidationFailed

            raise ValidationFailed(gettext_lazy("give the start and end as YYYY-MM-DD"), field="start") from None
        if last < first:
            first, last = last, first
        if (last - first).days > 3660:
            first = last - dt.timedelta(days=3660)
        return Period(first, last, "custom")
    return Period(today.replace(day=1), today, "month")


def month_period(month: str | None) -> Period:
    """A calendar month "YYYY-MM" (this month by default; up to today when it is this month)."""
    today = clock.today_local()
    try:
        first = dt.date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return Period(first, min(nxt - dt.timedelta(days=1), max(today, first)), "month")
