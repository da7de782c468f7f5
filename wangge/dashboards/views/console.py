"""The service-centre console: the scoped list, batch dispatch, one demand with its comments and a live reply."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wangge.accounts.models import User
from wangge.core.errors import ValidationFailed, WanggeError
from wangge.core.htmx import render_page_or_fragment
from wangge.dashboards import selectors, services
from wangge.demands import selectors as demand_selectors
from wangge.demands import services as demand_services
from wangge.demands.models import Channel, DemandComment, State, Urgency, Visibility
from wangge.demands.transitions import Move

MOVE_ORDER = ["accept", "resolve", "escalate", "dispatch", "return_", "reassign", "reject", "merge"]


def _category_groups() -> list[dict[str, Any]]:
    """Active categories for a select, grouped by first level (one query with its children)."""
    groups = []
    for parent in demand_selectors.category_tree():
        children = getattr(parent, "children_active", [])  # prefetched by category_tree()
        options = [(c.code, c.name) for c in children] + [(parent.code, f"{parent.name}（其他）")]
        groups.append({"name": parent.name, "options": options})
    return groups


# --- console ----------------------------------------------------------------------------------


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("size", "")
    default = int(getattr(settings, "DASHBOARD_CONSOLE_PAGE_SIZE", 30))
    return max(5, min(200, int(raw))) if raw.isdigit() else default


def _console_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    raw = request.GET.copy()
    raw.setdefault("view", "queue")
    filters = demand_selectors.DemandFilter.from_params(raw, user=user)
    qs = selectors.console_list(user=user, filters=filters, view=selectors.console_view(raw.get("view")))
    # A keyset page and a count capped at COUNT_CAP (shown "1,000+"): no COUNT over the whole history.
    page = demand_selectors.demand_page(qs, cursor=request.GET.get("cursor"), size=_page_size(request))
    # Rows the user may dispatch now, by the one rule of the demand services (auditors: none).
    dispatchable = {d.pk for d in page if demand_services.demand_may(demand=d, user=user, move=Move.DISPATCH)}
    query = raw.copy()
    query.pop("page", None)
    query.pop("cursor", None)
    return {
        "page": page,
        "raw": raw,
        "query": query.urlencode(),
        "filters": filters,
        "states": State.choices,
        "urgencies": Urgency.choices,
        "channels": Channel.choices,
        "categories": _category_groups(),
        "areas": list(selectors.console_areas(user=user)),
        "departments": selectors.console_departments(user=user) if dispatchable else [],
        "dispatchable": dispatchable,
        "searched_phone": bool(filters.phone),
        **extra,
    }


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The queue at my level and below, filters, search (code, exact phone, words), batch dispatch."""
    if request.method == "POST":
        return _batch_dispatch(request)
    context = _console_context(request)
    return render_page_or_fragment(
        request, "dashboards/console.html", "dashboards/partials/_console_table.html", context
    )


def _batch_dispatch(request: HttpRequest) -> HttpResponse:
    items: list[tuple[int, int | None]] = []
    for value in request.POST.getlist("pick"):
        pk, _sep, version = value.partition(":")
        if pk.isdigit():
            items.append((int(pk), int(version) if version.isdigit() else None))
    dept_id = request.POST.get("department", "")
    department = None
    if dept_id.isdigit():
        department = next((d for d in selectors.console_departments(user=request.user) if d.pk == int(dept_id)), None)
    status = 200
    try:
        results = services.demands_batch_dispatch(
            actor=request.user, items=items, department=department, note=request.POST.get("note", "")[:1000]
        )
    except ValidationFailed as exc:
        results, status = [], 400
        messages.error(request, f"{exc.zh} / {exc.en}")
    ok = sum(1 for r in results if r.ok)
    if results:
        messages.info(request, _("%(ok)s dispatched, %(bad)s not dispatched.") % {"ok": ok, "bad": len(results) - ok})
    context = _console_context(request, batch_results=results)
    return render(request, "dashboards/console.html", context, status=status)


def _comments(demand: Any) -> list[DemandComment]:
    return list(DemandComment.objects.filter(demand=demand).select_related("author").order_by("created_at", "id"))


@login_required
def console_demand(request: HttpRequest, pk: int) -> HttpResponse:
    """One demand for the service centre: facts, full timeline, my moves, and the live reply."""
    user = request.user
    demand = demand_selectors.demand_get(user=user, pk=pk)
    can = demand_services.demand_can(demand=demand, user=user)
    # The holder calls the resident back; the service logs each unmasked view.
    reporter_phone = demand_services.demand_reporter_phone_reveal(demand=demand, user=user, can=can, where="工作台")
    context = {
        "demand": demand,
        "reporter_phone": reporter_phone,
        "timeline": demand_selectors.demand_timeline(demand=demand, public=False),
        "moves": [m for m in MOVE_ORDER if m in can],
        "may_reply": "comment" in can,
        "comments": _comments(demand),
    }
    return render(request, "dashboards/console_demand.html", context)


@login_required
@require_GET
def console_comments(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx, polled every few seconds: the demand's comments, the resident's replies as they come."""
    demand = demand_selectors.demand_get(user=request.user, pk=pk)
    return render(request, "dashboards/partials/_comments.html", {"demand": demand, "comments": _comments(demand)})


@login_required
def console_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-stop live reply: a public comment the resident reads on the tracking page."""
    # Scope first: a demand outside the user's scope is not found, whatever the method.
    demand = demand_selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    error = ""
    try:
        demand_services.demand_comment(
            demand=demand,
            body=request.POST.get("body", ""),
            visibility=Visibility.PUBLIC,
            actor=cast(User, request.user),
        )
    except WanggeError as exc:
        error = f"{exc.zh} / {exc.en}"
    if getattr(request, "htmx", False):
        context = {"demand": demand, "comments": _comments(demand), "error": error}
        return render(request, "dashboards/partials/_comments.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("dashboards:console_demand", pk=pk)
