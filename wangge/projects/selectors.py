"""Reads of livelihood projects, filtered by the acting user's scope; the public read has no personal data.

Staff see a project when its area lies in their scope or it belongs to their department; reports
and photos follow their project. The public list gives only what the city publishes: the project,
its department and area, target versus the checked figure, and on time or late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound
from wangge.projects.measures import Measure, project_measure
from wangge.projects.models import LivelihoodProject, Milestone, ProgressReport, ReportPhoto, ReportState


def _visible(user: Any, prefix: str = "") -> Q:
    scope = scope_for(user)
    return scope.area_q(f"{prefix}area_path") | scope.department_q(f"{prefix}department_id")


def _with_milestones(qs: QuerySet[LivelihoodProject]) -> QuerySet[LivelihoodProject]:
    return qs.select_related("department", "area").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "position", "id"))
    )


@dataclass
class ProjectRow:
    project: LivelihoodProject
    measure: Measure
    pending: int = 0


def years(*, user: Any | None = None) -> list[int]:
    qs = LivelihoodProject.objects.all()
    if user is not None:
        qs = qs.filter(_visible(user))
    return sorted(set(qs.values_list("year", flat=True)), reverse=True)


def default_year(available: list[int]) -> int:
    this = clock.today_local().year
    return this if this in available or not available else available[0]


def project_list(*, user: Any, year: int | None = None, today: dt.date | None = None) -> list[ProjectRow]:
    """The user's projects with their measure and the number of reports awaiting the city's check."""
    today = today or clock.today_local()
    qs = _with_milestones(LivelihoodProject.objects.filter(_visible(user)))
    if year:
        qs = qs.filter(year=year)
    projects = list(qs.order_by("year", "code"))
    pending: dict[int, int] = {}
    for pid in ProgressReport.objects.filter(
        project__in=[p.pk for p in projects], state=ReportState.SUBMITTED
    ).values_list("project_id", flat=True):
        pending[pid] = pending.get(pid, 0) + 1
    return [
        ProjectRow(p, project_measure(p, today=today, milestones=list(p.milestones.all())), pending.get(p.pk, 0))
        for p in projects
    ]


def project_get(*, user: Any, pk: int) -> LivelihoodProject:
    project = _with_milestones(LivelihoodProject.objects.filter(_visible(user))).filter(pk=pk).first()
    if project is None:
        raise NotFound(_("project not found"))
    return project


def project_reports(project: LivelihoodProject) -> list[ProgressReport]:
    """Every report of a project (for staff who see the project), newest first, with photos and people."""
    return list(
        project.reports.select_related("reported_by", "checked_by", "milestone")
        .prefetch_related("photos")
        .order_by("-period", "-reported_at", "-id")
    )


def project_history(project: LivelihoodProject) -> dict[str, Any]:
    """The checked cumulative figures by date, and the even plan line, for the chart."""
    rows = list(
        project.reports.filter(state=ReportState.CHECKED)
        .order_by("period", "checked_at", "id")
        .values_list("period", "achieved_to_date")
    )
    start = dt.date(project.year, 1, 1)
    return {
        "dates": [start.isoformat()] + [d.isoformat() for d, _v in rows],
        "achieved": [0] + [v for _d, v in rows],
        "plan": [[start.isoformat(), 0], [project.deadline.isoformat(), project.target]],
        "target": project.target,
        "unit": project.unit,
        "deadline": project.deadline.isoformat(),
    }


def check_queue(*, user: Any) -> QuerySet[ProgressReport]:
    """Reports awaiting the check, oldest first, in the user's scope."""
    return (
        ProgressReport.objects.filter(_visible(user, "project__"), state=ReportState.SUBMITTED)
        .select_related("project__department", "project__area", "reported_by", "milestone")
        .prefetch_related("photos")
        .order_by("reported_at", "id")
    )


def report_get(*, user: Any, pk: int) -> ProgressReport:
    report = (
        ProgressReport.objects.filter(_visible(user, "project__"), pk=pk)
        .select_related("project__department", "project__area", "reported_by", "checked_by", "milestone")
        .first()
    )
    if report is None:
        raise NotFound(_("progress report not found"))
    return report


def photo_get(*, user: Any, pk: int) -> ReportPhoto:
    photo = ReportPhoto.objects.filter(pk=pk).select_related("report").first()
    if photo is None:
        raise NotFound(_("photo not found"))
    report_get(user=user, pk=photo.report_id)  # NotFound outside the user's scope
    return photo


# --- the public page (no login) -----------------------------------------------------------------


def public_years() -> list[int]:
    return years()


def public_projects(*, year: int, today: dt.date | None = None) -> list[ProjectRow]:
    """The year's projects with checked figures only; callers must not show `project.people`."""
    today = today or clock.today_local()
    projects = list(_with_milestones(LivelihoodProject.objects.filter(year=year)).order_by("code"))
    return [ProjectRow(p, project_measure(p, today=today, milestones=list(p.milestones.all()))) for p in projects]


def public_summary(rows: list[ProjectRow]) -> dict[str, int]:
    """Counts for the public page: done (on time or late), on track, behind (at risk or late)."""
    statuses = [r.measure.status for r in rows]
    return {
        "total": len(rows),
        "done": sum(s in ("completed", "completed_late") for s in statuses),
        "on_track": statuses.count("on_track"),
        "behind": sum(s in ("at_risk", "late") for s in statuses),
    }


def project_row(project: LivelihoodProject, *, today: dt.date | None = None) -> ProjectRow:
    """One project with its measure on the day (its milestones read once)."""
    today = today or clock.today_local()
    return ProjectRow(project, project_measure(project, today=today, milestones=list(project.milestones.all())))
