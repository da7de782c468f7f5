"""Pages of livelihood projects: the list with progress bars, a project with its history, the report form,
the city's check queue, photos for staff, and the public page (no login, no personal data).

Every read goes through selectors (scoped), every write through services; a refused write is shown on
the page with the service's bilingual message, next to its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import clock
from wangge.core.errors import PermissionDenied, ValidationFailed, WanggeError
from wangge.core.files import private_file_response
from wangge.projects import selectors, services


def _year(request: HttpRequest, available: list[int]) -> int:
    try:
        return int(request.GET.get("year") or selectors.default_year(available))
    except ValueError:
        return selectors.default_year(available)


@login_required
def project_index(request: HttpRequest) -> HttpResponse:
    """The user's projects of a year: target versus checked figure, on time or late, reports awaiting the check."""
    available = selectors.years(user=request.user)
    year = _year(request, available)
    rows = selectors.project_list(user=request.user, year=year)
    return render(
        request,
        "projects/list.html",
        {
            "rows": rows,
            "year": year,
            "years": available,
            "pending": sum(r.pending for r in rows),
        },
    )


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One project: measure, milestones, the chart of checked figures and every report."""
    project = selectors.project_get(user=request.user, pk=pk)
    milestones = list(project.milestones.all())
    from wangge.projects.measures import project_measure

    context = {
        "project": project,
        "measure": project_measure(project, today=clock.today_local(), milestones=milestones),
        "reports": selectors.project_reports(project),
        "history": selectors.project_history(project),
        "can_report": services.can_report(request.user, project),
        "can_check": services.can_manage(request.user, project.area_path),
    }
    return render(request, "projects/detail.html", context)


def _parse_int(value: str, field: str, message: Any) -> int:
    try:
        return int((value or "").replace(",", "").strip())
    except ValueError:
        raise ValidationFailed(message, field=field) from None


def _parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(gettext_lazy("give a date (YYYY-MM-DD)"), field=field) from None


@login_required
def report_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The report form for the responsible department's staff and the project's town staff."""
    project = selectors.project_get(user=request.user, pk=pk)
    if not services.can_report(request.user, project):
        raise PermissionDenied(
            gettext_lazy("only staff of the responsible department or of the project's town may report progress"),
        )
    open_milestones = [m for m in project.milestones.all() if m.done_on is None]
    values = {"period": clock.today_local().isoformat(), "achieved_to_date": "", "narrative": "", "milestone": ""}
    error: WanggeError | None = None
    if request.method == "POST":
        post = request.POST
        values = {k: post.get(k, "") for k in values}
        try:
            milestone = None
            if values["milestone"]:
                milestone = next((m for m in open_milestones if str(m.pk) == values["milestone"]), None)
                if milestone is None:
                    raise ValidationFailed(gettext_lazy("unknown or finished milestone"), field="milestone")
            services.report_submit(
                user=request.user,
                project=project,
                period=_parse_date(values["period"], "period"),
                achieved_to_date=_parse_int(
                    values["achieved_to_date"],
                    "achieved_to_date",
                    gettext_lazy("the cumulative figure must be a whole number"),
                ),
                narrative=values["narrative"],
                photos=request.FILES.getlist("photos"),
                milestone=milestone,
            )
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Progress reported; it counts once the city has checked it."))
            return redirect("projects:detail", pk=project.pk)
    return render(
        request,
        "projects/report.html",
        {"project": project, "values": values, "milestones": open_milestones, "error": error},
        status=400 if error else 200,
    )


@login_required
def check_index(request: HttpRequest) -> HttpResponse:
    """Reports awaiting the city's check, oldest first (others in scope may look; only the city acts)."""
    reports = list(selectors.check_queue(user=request.user)[:200])
    rows = [(r, services.can_manage(request.user, r.area_path)) for r in reports]
    return render(request, "projects/checks.html", {"rows": rows})


@login_required
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report with its photos; the city accepts it or sends it back with a reason."""
    report = selectors.report_get(user=request.user, pk=pk)
    error: WanggeError | None = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action not in ("accept", "return"):
                raise ValidationFailed(gettext_lazy("unknown action"), field="action")
            services.report_check(
                user=request.user, report=report, accepted=action == "accept", reason=request.POST.get("reason", "")
            )
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Accepted.") if action == "accept" else _("Sent back."))
            return redirect("projects:checks")
        report = selectors.report_get(user=request.user, pk=pk)
    return render(
        request,
        "projects/check.html",
        {
            "report": report,
            "project": report.project,
            "photos": list(report.photos.all()),
            "can_check": services.can_manage(request.user, report.area_path) and report.state == "submitted",
            "error": error,
        },
        status=error.status if error else 200,
    )


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A report's photo for staff who may see the report (never a public media URL)."""
    item = selectors.photo_get(user=request.user, pk=pk)
    return private_file_response(item.image, missing=gettext_lazy("photo file not found"))


def public(request: HttpRequest) -> HttpResponse:
    """No login: the year's projects, target versus checked figure, on time or late; no names of people."""
    available = selectors.public_years()
    year = _year(request, available)
    rows = selectors.public_projects(year=year)
    return render(
        request,
        "projects/public.html",
        {
            "rows": rows,
            "year": year,
            "years": available,
            "summary": selectors.public_summary(rows),
        },
    )
