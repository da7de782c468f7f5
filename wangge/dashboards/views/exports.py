"""Export jobs: the list of one's exports, one job's page and the scoped download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.errors import NotFound, WanggeError
from wangge.core.files import private_file_response
from wangge.core.htmx import render_page_or_fragment
from wangge.dashboards import facts, selectors, services
from wangge.dashboards.models import ExportKind

# --- exports ---------------------------------------------------------------------------------------


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    """My exports with their progress; POST queues a new one with the console's current filters."""
    status = 200
    if request.method == "POST":
        post = request.POST
        filters = {k: post.get(k, "") for k in services.FILTER_KEYS}
        filters["view"] = post.get("view", "")
        try:
            job = services.export_job_create(
                user=request.user,
                kind=post.get("kind", ExportKind.DEMANDS),
                filters=filters,
                unmasked=post.get("unmasked") == "1",
                reason=post.get("reason", ""),
            )
        except WanggeError as exc:
            messages.error(request, f"{exc.zh} / {exc.en}")
            status = exc.status
        else:
            messages.success(request, _("The export was queued; it runs in the background."))
            return redirect("dashboards:export", pk=job.pk)
    context = {
        "jobs": list(selectors.export_jobs(user=request.user)[:50]),
        "may_unmask": services.may_unmask_exports(request.user),
        "has_visits": facts.visit_models() is not None,
    }
    return render(request, "dashboards/exports.html", context, status=status)


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One export: a progress bar polled by htmx until it is done, then the download link."""
    job = selectors.export_get(user=request.user, pk=pk)
    return render_page_or_fragment(
        request, "dashboards/export.html", "dashboards/partials/_export_progress.html", {"job": job}
    )


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file of my finished export (never a public media URL)."""
    job = selectors.export_get(user=request.user, pk=pk)
    if job.state != "done":
        raise NotFound(gettext_lazy("the export is not finished"))
    return private_file_response(
        services.export_path(job),
        as_attachment=True,
        cache_control="no-store, private",
        missing=gettext_lazy("export file not found"),
    )
