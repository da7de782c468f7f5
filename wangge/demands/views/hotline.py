"""The 12345 round trip on the web (热线工单回传): the clerk picks a period and downloads, per ticket, how
each hotline order stands, in the hotline's own columns (`demands.hotline_results`)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.demands.hotline_results import hotline_orders, hotline_results_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodForm(forms.Form):
    since = forms.DateField()
    until = forms.DateField()


@login_required
def hotline_results(request: HttpRequest) -> HttpResponse:
    """GET: the period form and how many orders it holds; with `download`, the return sheet itself."""
    today = clock.today_local()
    form = PeriodForm(request.GET or {"since": today - dt.timedelta(days=6), "until": today})
    count = None
    status = 200
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
    return render(request, "demands/hotline.html", {"form": form, "count": count}, status=status)
