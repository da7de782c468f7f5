"""Livelihood projects API: list and read (scoped), report progress, the city's check, the public list."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import ValidationFailed
from wangge.projects import selectors, services
from wangge.projects.models import ProgressReport
from wangge.projects.schemas import (
    CheckIn,
    ProjectDetailOut,
    ProjectIn,
    ProjectOut,
    PublicProjectOut,
    ReportIn,
    ReportOut,
)
from wangge.registry.models import Area, Department

router = Router(tags=["projects"], auth=STAFF_AUTH)


@router.get("/projects/public", response=list[PublicProjectOut], auth=None)
def public_projects(request: HttpRequest, year: int | None = None) -> list[selectors.ProjectRow]:
    """No login: the year's projects with checked figures only; no personal data."""
    year = year or selectors.default_year(selectors.public_years())
    return selectors.public_projects(year=year)


@router.get("/projects", response=list[ProjectOut])
def list_projects(request: HttpRequest, year: int | None = None) -> list[selectors.ProjectRow]:
    return selectors.project_list(user=request.user, year=year)


@router.post("/projects", response={201: ProjectDetailOut})
def create_project(request: HttpRequest, payload: ProjectIn) -> Status[selectors.ProjectRow]:
    """City administrators set up a project (milestones and responsible people in the same call)."""
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed(_("department not found"), field="department_id")
    area = Area.objects.filter(pk=payload.area_id).first()
    if area is None:
        raise ValidationFailed(pgettext_lazy("project", "area not found"), field="area_id")
    project = services.project_create(
        user=request.user,
        code=payload.code,
        name=payload.name,
        year=payload.year,
        domain=payload.domain,
        works_kind=payload.works_kind,
        target=payload.target,
        unit=payload.unit,
        budget_fen=payload.budget_fen,
        department=department,
        deadline=payload.deadline,
        area=area,
        people=[p.dict() for p in payload.people],
        milestones=[(m.name, m.due_on) for m in payload.milestones],
        description=payload.description,
    )
    return Status(201, selectors.project_row(selectors.project_get(user=request.user, pk=project.pk)))


@router.get("/projects/{project_id}", response=ProjectDetailOut)
def get_project(request: HttpRequest, project_id: int) -> selectors.ProjectRow:
    return selectors.project_row(selectors.project_get(user=request.user, pk=project_id))


@router.post("/projects/{project_id}/reports", response={201: ReportOut})
def report_progress(request: HttpRequest, project_id: int, payload: ReportIn) -> Status[ProgressReport]:
    """Report the cumulative figure to date; it counts once the city has checked it (photos: the report page)."""
    project = selectors.project_get(user=request.user, pk=project_id)
    milestone = None
    if payload.milestone_id is not None:
        milestone = project.milestones.filter(pk=payload.milestone_id).first()
        if milestone is None:
            raise ValidationFailed(_("the milestone belongs to another project"), field="milestone_id")
    report = services.report_submit(
        user=request.user,
        project=project,
        period=payload.period,
        achieved_to_date=payload.achieved_to_date,
        narrative=payload.narrative,
        milestone=milestone,
    )
    return Status(201, selectors.report_get(user=request.user, pk=report.pk))


@router.post("/projects/reports/{report_id}/check", response=ReportOut)
def check_report(request: HttpRequest, report_id: int, payload: CheckIn) -> ProgressReport:
    """The city accepts the report (its figure counts) or sends it back with a reason."""
    report = selectors.report_get(user=request.user, pk=report_id)
    services.report_check(user=request.user, report=report, accepted=payload.accepted, reason=payload.reason)
    return selectors.report_get(user=request.user, pk=report_id)
