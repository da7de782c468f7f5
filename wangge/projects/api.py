"""Livelihood projects API: list and read (scoped), report progress, the city's check, the public list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.projects import selectors, services
from wangge.projects.measures import Measure, project_measure
from wangge.projects.models import LivelihoodProject, ProgressReport
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


def _measure(m: Measure) -> dict[str, Any]:
    return {
        "target": m.target,
        "achieved": m.achieved,
        "percent": m.percent,
        "expected_percent": m.expected_percent,
        "status": m.status,
        "status_label": m.label,
    }


def _public(p: LivelihoodProject, m: Measure) -> dict[str, Any]:
    return {
        "code": p.code,
        "year": p.year,
        "name": p.name,
        "domain": p.domain,
        "works_kind": p.works_kind,
        "unit": p.unit,
        "department": p.department.name,
        "area": p.area.name,
        "deadline": p.deadline,
        "achieved_as_of": p.achieved_as_of,
        "measure": _measure(m),
        "milestones": [
            {"id": ms.pk, "name": ms.name, "due_on": ms.due_on, "done_on": ms.done_on, "status": st}
            for ms, st in m.milestones
        ],
    }


def _project(p: LivelihoodProject, m: Measure) -> dict[str, Any]:
    return {
        **_public(p, m),
        "id": p.pk,
        "budget_fen": p.budget_fen,
        "completed_on": p.completed_on,
        "people": [{"name": x.get("name", ""), "role": x.get("role", "")} for x in p.people or []],
    }


def _report(r: ProgressReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "project_id": r.project_id,
        "period": r.period,
        "achieved_to_date": r.achieved_to_date,
        "increment": r.increment,
        "narrative": r.narrative,
        "milestone_id": r.milestone_id,
        "state": r.state,
        "reported_by": str(r.reported_by),
        "reported_at": r.reported_at,
        "checked_at": r.checked_at,
        "return_reason": r.return_reason,
        "photos": len(r.photos.all()),
    }


def _detail(project: LivelihoodProject) -> dict[str, Any]:
    m = project_measure(project, today=clock.today_local(), milestones=list(project.milestones.all()))
    return {**_project(project, m), "reports": [_report(r) for r in selectors.project_reports(project)]}


@router.get("/projects/public", response=list[PublicProjectOut], auth=None)
def public_projects(request: HttpRequest, year: int | None = None) -> list[dict[str, Any]]:
    """No login: the year's projects with checked figures only; no personal data."""
    year = year or selectors.default_year(selectors.public_years())
    return [_public(r.project, r.measure) for r in selectors.public_projects(year=year)]


@router.get("/projects", response=list[ProjectOut])
def list_projects(request: HttpRequest, year: int | None = None) -> list[dict[str, Any]]:
    return [_project(r.project, r.measure) for r in selectors.project_list(user=request.user, year=year)]


@router.post("/projects", response={201: ProjectDetailOut})
def create_project(request: HttpRequest, payload: ProjectIn) -> Status[dict[str, Any]]:
    """City administrators set up a project (milestones and responsible people in the same call)."""
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed("找不到责任部门", "department not found", field="department_id")
    area = Area.objects.filter(pk=payload.area_id).first()
    if area is None:
        raise ValidationFailed("找不到项目区域", "area not found", field="area_id")
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
    return Status(201, _detail(selectors.project_get(user=request.user, pk=project.pk)))


@router.get("/projects/{project_id}", response=ProjectDetailOut)
def get_project(request: HttpRequest, project_id: int) -> dict[str, Any]:
    return _detail(selectors.project_get(user=request.user, pk=project_id))


@router.post("/projects/{project_id}/reports", response={201: ReportOut})
def report_progress(request: HttpRequest, project_id: int, payload: ReportIn) -> Status[dict[str, Any]]:
    """Report the cumulative figure to date; it counts once the city has checked it (photos: the report page)."""
    project = selectors.project_get(user=request.user, pk=project_id)
    milestone = None
    if payload.milestone_id is not None:
        milestone = project.milestones.filter(pk=payload.milestone_id).first()
        if milestone is None:
            raise ValidationFailed(
                "该节点不属于本项目", "the milestone belongs to another project", field="milestone_id"
            )
    report = services.report_submit(
        user=request.user,
        project=project,
        period=payload.period,
        achieved_to_date=payload.achieved_to_date,
        narrative=payload.narrative,
        milestone=milestone,
    )
    return Status(201, _report(selectors.report_get(user=request.user, pk=report.pk)))


@router.post("/projects/reports/{report_id}/check", response=ReportOut)
def check_report(request: HttpRequest, report_id: int, payload: CheckIn) -> dict[str, Any]:
    """The city accepts the report (its figure counts) or sends it back with a reason."""
    report = selectors.report_get(user=request.user, pk=report_id)
    services.report_check(user=request.user, report=report, accepted=payload.accepted, reason=payload.reason)
    return _report(selectors.report_get(user=request.user, pk=report_id))
