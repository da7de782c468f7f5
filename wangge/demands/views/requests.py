"""The pages of 延期 (extension) and 挂起 (suspension): the holder's requests, the decision above, resuming,
and the decider's queue ("awaiting my decision", 待审批).

Reads go through the scoped selectors (a demand outside the scope is not found, whatever the method);
writes through `services.requests`; a service's error is shown next to its field on the demand page.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.accounts.models import User
from wangge.core.errors import Conflict, NotFound, ValidationFailed
from wangge.demands import request_selectors, selectors, services
from wangge.demands.forms.requests import REQUEST_FORMS, DecideForm
from wangge.demands.services.requests import pending_request
from wangge.demands.views._common import attach_error
from wangge.demands.views.staff import PAGE_SIZE, _render_detail

DONE = {
    "extend": gettext_lazy("The request for more time was sent to the level above."),
    "suspend": gettext_lazy("The request to suspend was sent to the level above."),
    "resume": gettext_lazy("The clock runs again."),
}


def _invalid(request: HttpRequest, demand: Any, form: Any) -> HttpResponse:
    return _render_detail(request, demand, status=400, extra={"case_forms": {form.prefix: form}})


@login_required
def demand_request(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """The holder asks for more time (extend) or to suspend; the holder or a decider resumes."""
    demand = selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form_class = REQUEST_FORMS.get(move)
    if form_class is None:
        raise NotFound(_("no such move"))
    form = form_class(request.POST, demand=demand)
    if not form.is_valid():
        return _invalid(request, demand, form)
    data, actor = form.cleaned_data, cast(User, request.user)
    try:
        if move == "resume":
            services.demand_resume(demand=demand, actor=actor, version=data.get("version"))
        elif move == "extend":
            services.demand_extension_request(
                demand=demand, actor=actor, reason=data["reason"], until=data["until"], version=data.get("version")
            )
        else:
            services.demand_suspension_request(
                demand=demand, actor=actor, reason=data["reason"], until=data.get("until"), version=data.get("version")
            )
    except Conflict as exc:
        return _render_detail(request, selectors.demand_get(user=request.user, pk=pk), status=409, conflict=exc)
    except ValidationFailed as exc:
        attach_error(form, exc)
        return _invalid(request, demand, form)
    messages.success(request, DONE[move])
    return redirect("demands:detail", pk=pk)


@login_required
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The level above approves or refuses the demand's pending request."""
    demand = selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = DecideForm(request.POST)
    pending = pending_request(demand)
    if pending is None:
        return _render_detail(request, demand, status=409, conflict=Conflict(_("this request was decided already")))
    if not form.is_valid():
        return _invalid(request, demand, form)
    decide = services.demand_extension_decide if pending.kind == "extension" else services.demand_suspension_decide
    approve = form.cleaned_data["decision"] == "approve"
    try:
        decide(request=pending, actor=cast(User, request.user), approve=approve, note=form.cleaned_data["note"])
    except Conflict as exc:
        return _render_detail(request, selectors.demand_get(user=request.user, pk=pk), status=409, conflict=exc)
    except ValidationFailed as exc:
        attach_error(form, exc)
        return _invalid(request, demand, form)
    messages.success(request, _("The decision was saved.") if approve else _("The request was refused."))
    return redirect("demands:detail", pk=pk)


@login_required
def requests_to_decide(request: HttpRequest) -> HttpResponse:
    """待审批: the pending requests whose decision is the user's (oldest first)."""
    qs = request_selectors.requests_to_decide(user=request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "demands/requests.html", {"page": page})
