"""The only writers of livelihood projects: creating a project, reporting progress, the city's check.

A report moves submitted → checked or returned by a conditional UPDATE on its state and version, so
two administrators checking the same report at once give one winner and one clear Conflict. The
project's checked figure is changed only here, under a row lock, so the public page never counts
an unchecked figure and never goes backwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed, render_both
from wangge.core.text import clean_text
from wangge.projects.models import (
    Domain,
    LivelihoodProject,
    Milestone,
    ProgressReport,
    ReportPhoto,
    ReportState,
    WorksKind,
)
from wangge.registry.models import Area, Department, Level

# A cumulative figure far above the target is almost always a typing slip (an extra zero).
MAX_TARGET_MULTIPLE = 3
# Targets stay well inside a 32-bit column even at three times over (14,500 spaces is a big one).
MAX_TARGET = 100_000_000
MAX_BUDGET_FEN = 10**15


# --- who may do what (one place, used by pages and API to show or hide the buttons) -------------


def can_manage(user: Any, area_path: str) -> bool:
    """City administrators of the project's city create projects and check reports."""
    scope = scope_for(user)
    if scope.read_only:
        return False
    if scope.is_global:
        return True
    return getattr(user, "role", "") == Role.CITY_ADMIN and scope.covers_path(area_path)


def can_report(user: Any, project: LivelihoodProject) -> bool:
    """Staff of the responsible department, and town staff of the project's area, report progress."""
    scope = scope_for(user)
    if scope.read_only:
        return False
    if scope.is_global:
        return True
    role = getattr(user, "role", "")
    if role == Role.DEPARTMENT:
        return scope.covers_department(project.department_id)
    if role == Role.TOWN:
        return scope.covers_path(project.area_path)
    return False


# --- projects ---------------------------------------------------------------------------------


def _clean_people(people: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for i, p in enumerate(people or []):
        if not isinstance(p, dict):
            raise ValidationFailed(
                _("responsible person %(number)s is malformed"), params={"number": i + 1}, field="people"
            )
        name = clean_text(p.get("name"), field="people", limit=50, label=_("person's name"), required=True)
        role = clean_text(p.get("role"), field="people", limit=50, label=_("person's role"))
        out.append({"name": name, "role": role})
    return out


@transaction.atomic
def project_create(
    *,
    user: Any,
    code: str,
    name: str,
    year: int,
    domain: str,
    target: int,
    unit: str,
    department: Department,
    deadline: dt.date,
    area: Area,
    works_kind: str = "",
    budget_fen: int = 0,
    people: Iterable[dict[str, str]] = (),
    milestones: Iterable[tuple[str, dt.date]] = (),
    description: str = "",
) -> LivelihoodProject:
    """A project of the city or a town: a positive target and unit, a department of its city, a deadline in its year."""
    if not can_manage(user, area.path):
        raise PermissionDenied(_("only city administrators create projects"), field="area")
    code = clean_text(code, field="code", limit=40, label=pgettext_lazy("project field", "code"), required=True)
    name = clean_text(name, field="name", limit=120, label=pgettext_lazy("project field", "name"), required=True)
    unit = clean_text(unit, field="unit", limit=10, label=pgettext_lazy("project field", "unit"), required=True)
    description = clean_text(
        description, field="description", limit=4000, label=pgettext_lazy("project field", "description")
    )
    if LivelihoodProject.objects.filter(code=code).exists():
        raise ValidationFailed(_("project code %(code)s is taken"), params={"code": code}, field="code")
    if domain not in Domain.values:
        raise ValidationFailed(_("unknown domain"), field="domain")
    if domain == Domain.MAJOR_WORKS and works_kind not in WorksKind.values:
        raise ValidationFailed(
            _("major works need a kind: road, tunnel or bridge"),
            field="works_kind",
        )
    if domain != Domain.MAJOR_WORKS and works_kind:
        raise ValidationFailed(_("only major works have a kind"), field="works_kind")
    if not isinstance(target, int) or not 0 < target <= MAX_TARGET:
        raise ValidationFailed(
            _("the target must be a whole number from 1 to %(max)s"), params={"max": MAX_TARGET}, field="target"
        )
    if not 0 <= budget_fen <= MAX_BUDGET_FEN:
        raise ValidationFailed(_("the budget is negative or out of range"), field="budget_fen")
    if area.level not in (Level.CITY, Level.TOWN):
        raise ValidationFailed(_("the area must be the city or a town"), field="area")
    if not area.path.startswith(department.area_path):
        raise ValidationFailed(_("the department belongs to another city"), field="department")
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_("the year is not valid"), field="year")
    if deadline < dt.date(year, 1, 1):
        raise ValidationFailed(_("the deadline is before the project's year"), field="deadline")
    clean_people = _clean_people(people)
    steps = list(milestones)
    clean_steps = []
    for i, (ms_name, due_on) in enumerate(steps):
        ms_name = clean_text(ms_name, field="milestones", limit=120, label=_("milestone name"), required=True)
        if not isinstance(due_on, dt.date):
            raise ValidationFailed(_("milestone %(number)s has no date"), params={"number": i + 1}, field="milestones")
        clean_steps.append((ms_name, due_on))
    project = LivelihoodProject.objects.create(
        year=year,
        code=code,
        name=name,
        description=description,
        domain=domain,
        works_kind=works_kind,
        target=target,
        unit=unit,
        budget_fen=budget_fen,
        department=department,
        people=clean_people,
        deadline=deadline,
        area=area,
        area_path=area.path,
        created_at=clock.now(),
    )
    Milestone.objects.bulk_create(
        [Milestone(project=project, name=n, due_on=d, position=i) for i, (n, d) in enumerate(clean_steps)]
    )
    return project


# --- progress reports -------------------------------------------------------------------------


@transaction.atomic
def report_submit(
    *,
    user: Any,
    project: LivelihoodProject,
    period: dt.date,
    achieved_to_date: int,
    narrative: str = "",
    photos: Iterable[Any] = (),
    milestone: Milestone | None = None,
) -> ProgressReport:
    """A report gives the cumulative figure to date (not below the checked one); photos: images only, EXIF stripped."""
    from wangge.core.photos import clean_photos

    if not can_report(user, project):
        raise PermissionDenied(
            _("only staff of the responsible department or of the project's town may report progress"),
            field="project",
        )
    project = LivelihoodProject.objects.get(pk=project.pk)  # the checked figure as it is now
    today = clock.today_local()
    if not isinstance(period, dt.date):
        raise ValidationFailed(_("the date of the figures is required"), field="period")
    if period > today:
        raise ValidationFailed(_("the figures cannot be dated in the future"), field="period")
    if period < dt.date(project.year, 1, 1):
        raise ValidationFailed(
            _("the figures cannot be dated before %(year)s"), params={"year": project.year}, field="period"
        )
    if not isinstance(achieved_to_date, int) or achieved_to_date < 0:
        raise ValidationFailed(
            _("the cumulative figure must be a whole number of at least 0"),
            field="achieved_to_date",
        )
    if achieved_to_date < project.achieved:
        raise ValidationFailed(
            _(
                "the cumulative figure cannot be below the checked %(achieved)s%(unit)s "
                "(give the total, not the increment)"
            ),
            params={"achieved": project.achieved, "unit": project.unit},
            field="achieved_to_date",
        )
    if achieved_to_date > project.target * MAX_TARGET_MULTIPLE:
        raise ValidationFailed(
            _("the figure is over %(times)s times the target; please check it"),
            params={"times": MAX_TARGET_MULTIPLE},
            field="achieved_to_date",
        )
    if milestone is not None:
        if milestone.project_id != project.pk:
            raise ValidationFailed(_("the milestone belongs to another project"), field="milestone")
        if milestone.done_on is not None:
            raise ValidationFailed(_("the milestone is already done"), field="milestone")
    narrative = clean_text(narrative, field="narrative", limit=4000, label=_("narrative"))
    cleaned = clean_photos(photos)  # refuses before anything is written
    now = clock.now()
    report = ProgressReport.objects.create(
        project=project,
        period=period,
        achieved_to_date=achieved_to_date,
        increment=achieved_to_date - project.achieved,  # provisional until checked
        narrative=narrative,
        milestone=milestone,
        area_path=project.area_path,
        reported_by=user,
        reported_at=now,
    )
    for photo in cleaned:
        item = ReportPhoto(report=report, uploaded_at=now)
        item.image.save(photo.name, photo.content, save=False)
        item.save()
    return report


@transaction.atomic
def report_check(*, user: Any, report: ProgressReport, accepted: bool, reason: str = "") -> ProgressReport:
    """The city accepts a report (its figure becomes the project's checked figure) or sends it back with a reason."""
    if not can_manage(user, report.area_path):
        raise PermissionDenied(_("only city administrators check progress"), field="report")
    if report.reported_by_id == getattr(user, "pk", None):
        raise PermissionDenied(_("you cannot check your own report"), field="report")
    reason = clean_text(reason, field="reason", limit=300, label=_("reason to send back"))
    if not accepted and not reason:
        raise ValidationFailed(_("give a reason for sending it back"), field="reason")
    now = clock.now()
    if not accepted:
        _move(report, user=user, now=now, state=ReportState.RETURNED, return_reason=reason)
        _tell_reporter(report, reason)
        return report
    # The project row is locked so two checks of two reports of one project apply one after the other.
    project = LivelihoodProject.objects.select_for_update().get(pk=report.project_id)
    if report.achieved_to_date < project.achieved or (
        project.achieved_as_of is not None and report.period < project.achieved_as_of
    ):
        raise ValidationFailed(
            _("a later figure is checked (%(achieved)s%(unit)s as of %(as_of)s); send this one back"),
            params={"achieved": project.achieved, "unit": project.unit, "as_of": project.achieved_as_of},
            field="achieved_to_date",
        )
    increment = report.achieved_to_date - project.achieved
    _move(report, user=user, now=now, state=ReportState.CHECKED, increment=increment)
    project.achieved = report.achieved_to_date
    project.achieved_as_of = report.period
    fields = ["achieved", "achieved_as_of"]
    if project.completed_on is None and project.achieved >= project.target:
        project.completed_on = report.period
        fields.append("completed_on")
    project.save(update_fields=fields)
    if report.milestone_id:
        Milestone.objects.filter(pk=report.milestone_id, done_on__isnull=True).update(done_on=report.period)
    return report


def _move(report: ProgressReport, *, user: Any, now: dt.datetime, state: str, **fields: Any) -> None:
    """Apply a check as a conditional UPDATE on the submitted state and the version (one winner)."""
    changed = ProgressReport.objects.filter(pk=report.pk, state=ReportState.SUBMITTED, version=report.version).update(
        state=state, checked_by=user, checked_at=now, version=F("version") + 1, **fields
    )
    if not changed:
        raise Conflict(_("the report was checked or changed by someone else; reload"))
    report.refresh_from_db()


def _tell_reporter(report: ProgressReport, reason: str) -> None:
    from django.conf import settings

    from wangge.notifications.services import outbox_enqueue

    outbox_enqueue(
        channel=str(getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat")),
        recipient=f"user:{report.reported_by_id}",
        # Messages to people are written in Chinese, whatever language the checking page uses.
        subject=render_both(_("Progress report sent back"))[0],
        body=render_both(
            _("Your progress report (figures as of %(period)s) was sent back: %(reason)s"),
            {"period": report.period, "reason": reason},
        )[0],
        payload={"report_id": report.pk, "project_id": report.project_id},
        kind="projects.report_returned",
        area_path=report.area_path,
    )
