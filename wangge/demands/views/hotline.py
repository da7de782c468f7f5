"""The 12345 round trip on the web (热线工单): the clerk uploads the hotline's export, which the background
worker imports as an import job of kind hotline (progress bar, then the counts and every row error),
and picks a period to download, per ticket, how each hotline order stands, in the hotline's own
columns (`demands.hotline_results`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.core.files import refuse_oversized_upload
from wangge.core.htmx import render_page_or_fragment
from wangge.demands.hotline_results import hotline_orders, hotline_results_workbook
from wangge.registry.importing.forms import CityUploadForm
from wangge.registry.importing.jobs import import_job_context, import_job_create
from wangge.registry.importing.reader import EXTENSIONS
from wangge.registry.importing.selectors import can_import, import_cities, import_job_get, import_job_list
from wangge.registry.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOTLINE = ImportJob.Kind.HOTLINE


class PeriodForm(forms.Form):
    since = forms.DateField()
    until = forms.DateField()


class HotlineUploadForm(CityUploadForm):
    file = forms.FileField(
        label=_("Hotline export (.xlsx, .xls or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )


def _upload(request: HttpRequest) -> tuple[HotlineUploadForm, HttpResponse | None]:
    """POST: queue the export as a hotline job (the kind's roles only) and go to its page."""
    cities = import_cities(user=request.user, kind=HOTLINE)  # PermissionDenied for other roles
    limit = int(settings.IMPORT_MAX_BYTES)
    refuse_oversized_upload(request, limit)
    form = HotlineUploadForm(request.POST, request.FILES, cities=cities)
    if form.is_valid():
        try:
            job = import_job_create(
                user=request.user, city=form.cleaned_data["city"], upload=form.cleaned_data["file"], kind=HOTLINE
            )
        except ValidationFailed as exc:
            form.add_error("file" if exc.field == "file" else None, str(exc))
        else:
            return form, redirect("demands:hotline_job", pk=job.pk)
    return form, None


@login_required
def hotline_results(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and recent uploads (for those who may import), the period form and how many
    orders it holds; with `download`, the return sheet itself. POST: an upload."""
    today = clock.today_local()
    may_upload = can_import(request.user, HOTLINE)
    upload_form = None
    status = 200
    if request.method == "POST":
        upload_form, done = _upload(request)
        if done is not None:
            return done
        status = 400
    form = PeriodForm(request.GET or {"since": today - dt.timedelta(days=6), "until": today})
    count = None
    if form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        try:
            if "download" in request.GET:
                data, _count = hotline_results_workbook(user=request.user, since=since, until=until)
                name = f"12345工单办理情况_{since:%Y%m%d}-{until:%Y%m%d}.xlsx"
                disposition = content_disposition_header(True, name) or "attachment"
                return HttpResponse(data, content_type=XLSX, headers={"Content-Disposition": disposition})
            count = hotline_orders(user=request.user, since=since, until=until).count()
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            status = 400
    else:
        status = 400
    context: dict[str, Any] = {"form": form, "count": count, "may_upload": may_upload}
    if may_upload:
        cities = import_cities(user=request.user, kind=HOTLINE)
        context["upload_form"] = upload_form or HotlineUploadForm(cities=cities)
        context["page"] = Paginator(import_job_list(user=request.user, kind=HOTLINE), 10).get_page(
            request.GET.get("page")
        )
        context["max_mb"] = int(settings.IMPORT_MAX_BYTES) // (1024 * 1024)
    return render(request, "demands/hotline.html", context, status=status)


@login_required
def hotline_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One uploaded export: a progress bar polled every second, then the counts and every row error."""
    job = import_job_get(user=request.user, pk=pk, kinds=(HOTLINE,))
    context = import_job_context(
        job, poll_url=reverse("demands:hotline_job", args=[job.pk]), page=request.GET.get("page")
    )
    context["back_url"] = reverse("demands:hotline_results")
    return render_page_or_fragment(request, "registry/import_job.html", "registry/partials/_import_job.html", context)
