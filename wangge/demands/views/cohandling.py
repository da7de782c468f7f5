"""Staff pages of urging (督办/催办) and co-handling (协办): the posts from the demand page, and the
协办任务 list of the tasks awaiting the user's department's reply.

The panel on the demand page is `templatetags/demand_cohandling.py`. A refused post (a lost race, a
rule of the service, a field left empty) comes back to the demand page with the bilingual message.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from wangge.accounts.models import User
from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.demands import assist_selectors, selectors, services
from wangge.demands.forms.cohandling import AssistAddForm, AssistReplyForm, UrgeForm
from wangge.demands.models import DemandAssist


def _back(request: HttpRequest, pk: int, *, error: str = "") -> HttpResponse:
    if error:
        messages.error(request, error)
    return redirect("demands:detail", pk=pk)


def _form_error(form: UrgeForm | AssistAddForm | AssistReplyForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
def demand_urge(request: HttpRequest, pk: int) -> HttpResponse:
    """A level above the holder urges it (督办/催办)."""
    demand = selectors.demand_get(user=request.user, pk=pk)  # scope first: NotFound outside it, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = UrgeForm(request.POST)
    if not form.is_valid():
        return _back(request, pk, error=_form_error(form))
    try:
        services.demand_urge(demand=demand, actor=cast(User, request.user), note=form.cleaned_data["note"])
    except (Conflict, ValidationFailed) as exc:
        return _back(request, pk, error=f"{exc.zh} / {exc.en}")
    messages.success(request, _("The holder was urged."))
    return _back(request, pk)


@login_required
def demand_assist_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder adds an assisting department with its task (协办)."""
    demand = selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AssistAddForm(request.POST, demand=demand)
    if not form.is_valid():
        return _back(request, pk, error=_form_error(form))
    try:
        services.demand_assist_add(
            demand=demand,
            actor=cast(User, request.user),
            department=form.cleaned_data["department"],
            task=form.cleaned_data["task"],
            version=form.cleaned_data.get("version"),
        )
    except (Conflict, ValidationFailed) as exc:
        return _back(request, pk, error=f"{exc.zh} / {exc.en}")
    messages.success(request, _("The assisting department was added and told."))
    return _back(request, pk)


@login_required
def demand_assist_reply(request: HttpRequest, assist_pk: int) -> HttpResponse:
    """Staff of the assisting department reply to its task (once)."""
    assist = DemandAssist.objects.filter(pk=assist_pk).first()
    if assist is None:
        raise NotFound(gettext_lazy("co-handling task not found"))
    selectors.demand_get(user=request.user, pk=assist.demand_id)  # the same scope rule as the demand page
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AssistReplyForm(request.POST)
    if not form.is_valid():
        return _back(request, assist.demand_id, error=_form_error(form))
    try:
        services.demand_assist_reply(assist=assist, actor=cast(User, request.user), reply=form.cleaned_data["reply"])
    except (Conflict, ValidationFailed) as exc:
        return _back(request, assist.demand_id, error=f"{exc.zh} / {exc.en}")
    messages.success(request, _("Your reply was sent to the lead."))
    return _back(request, assist.demand_id)


@login_required
@require_GET
def assist_tasks(request: HttpRequest) -> HttpResponse:
    """协办任务: the co-handling tasks waiting for a reply from the user's departments."""
    tasks = list(assist_selectors.assist_tasks(user=request.user)[:200])
    return render(request, "demands/assist_tasks.html", {"tasks": tasks})
