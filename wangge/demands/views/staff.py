"""The staff pages: the list, a demand's detail and its moves, category, and intake."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wangge.accounts.models import User
from wangge.accounts.scope import scope_for
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.htmx import render_page_or_fragment
from wangge.demands import forms as f
from wangge.demands import permissions, selectors, services
from wangge.demands.models import FINAL_STATES, Channel, Demand, State, Urgency
from wangge.demands.views._common import SHEET_LEVELS, attach_error
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Level

# Order in which a holder sees the forms for the moves open to them.
MOVE_ORDER = [
    "accept",
    "resolve",
    "escalate",
    "dispatch",
    "return_",
    "reassign",
    "reject",
    "merge",
    "call_back",
    "comment",
]
SERVICES: dict[str, Any] = {
    "accept": services.demand_accept,
    "resolve": services.demand_resolve,
    "escalate": services.demand_escalate,
    "dispatch": services.demand_dispatch,
    "return_": services.demand_return,
    "reassign": services.demand_reassign,
    "reject": services.demand_reject,
    "merge": services.demand_merge,
    "comment": services.demand_comment,
    "call_back": services.demand_call_back,
}
PAGE_SIZE = 30


@login_required
def demand_index(request: HttpRequest) -> HttpResponse:
    """My queue (waiting for me or held by me) and the scoped list with simple filters."""
    filters = selectors.DemandFilter.from_params(request.GET, user=request.user)
    qs = selectors.demand_list(user=request.user, filters=filters)
    # A keyset page and a count capped at COUNT_CAP: the cost of a view does not grow with the history.
    page = selectors.demand_page(qs, cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    context = {
        "page": page,
        "queue": list(selectors.my_queue(user=request.user)[:20]),
        "filters": filters,
        "raw": request.GET,
        "states": State.choices,
        "urgencies": Urgency.choices,
        "channels": Channel.choices,
        "categories": f.category_groups(),
        "qr_areas": registry_selectors.area_roots(user=request.user).filter(level__in=SHEET_LEVELS),
    }
    return render_page_or_fragment(request, "demands/list.html", "demands/partials/_demand_table.html", context)


def _render_detail(
    request: HttpRequest,
    demand: Demand,
    *,
    bound: f.MoveForm | None = None,
    status: int = 200,
    conflict: WanggeError | None = None,
    category_error: str = "",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    can = services.demand_can(demand=demand, user=request.user)
    move_forms = []
    # Triage: where a demand like this one was dispatched before, offered to the holder who dispatches.
    dispatch_suggestion = selectors.department_suggestion(demand=demand) if "dispatch" in can else None
    for move in MOVE_ORDER:
        if move not in can:
            continue
        if bound is not None and bound.move == move:
            form = bound
        else:
            form = f.MOVE_FORMS[move](demand=demand, user=request.user)
            if move == "dispatch" and dispatch_suggestion is not None:
                form.initial["department"] = dispatch_suggestion.department.pk
        move_forms.append(form)
    # The holder must be able to call the resident back; the service logs every unmasked view.
    reporter_phone = services.demand_reporter_phone_reveal(demand=demand, user=request.user, can=can, where="诉求页")
    holds = permissions.can_hold(demand=demand, user=request.user)
    needs_category = demand.category_id is None or not selectors.category_confirmed(demand=demand)
    context = {
        "demand": demand,
        "reporter_phone": reporter_phone,
        # Triage: a merge suggestion (inside the user's scope) and the category suggestion for the holder.
        # A duplicate joins the first report: the one-click merge is offered only into earlier demands.
        "duplicates": [
            {"offer": o, "earlier": (o.demand.created_at, o.demand.pk) < (demand.created_at, demand.pk)}
            for o in selectors.demand_duplicates(demand=demand, user=request.user)
        ],
        "can_merge": "merge" in can,
        "suggestion": selectors.demand_suggestion(demand=demand) if needs_category else None,
        "needs_category": needs_category and demand.state not in FINAL_STATES,
        "can_set_category": holds and demand.state not in FINAL_STATES,
        "categories": f.category_groups(),
        "category_error": category_error,
        "followers": list(demand.followers.all()),
        "timeline": selectors.demand_timeline(demand=demand, public=False),
        "photos": list(demand.photos.all()),
        "move_forms": move_forms,
        "bound_move": bound.move if bound is not None else "",
        "bound": bound,  # a refused form of a panel of its own (核查) shows its errors there
        "conflict": conflict,
        "photo_moves": f.PHOTO_MOVES,
        "dispatch_suggestion": dispatch_suggestion,
        "max_photos": f.MAX_PHOTOS,
    }
    context.update(extra or {})  # bound forms of the modules beside this one (views/requests.py: 延期, 挂起)
    return render(request, "demands/detail.html", context, status=status)


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one demand in the user's scope, and a form for each move they may make now."""
    demand = selectors.demand_get(user=request.user, pk=pk)
    return _render_detail(request, demand)


@login_required
def demand_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """Apply one move posted from the detail page, with the version the page showed."""
    # Scope first: a demand outside the user's scope is not found, whatever the method.
    demand = selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form_class = f.MOVE_FORMS.get(move)
    if form_class is None:
        raise NotFound("没有这个操作", "no such move")
    if move not in services.demand_can(demand=demand, user=request.user):
        posted = request.POST.get(f"{move}-version", "")
        if posted.isdigit() and int(posted) != demand.version:
            # The page was stale: someone else moved the demand since it was shown.
            conflict = Conflict(
                "该诉求已被他人处理，页面已刷新为最新状态",
                "Someone else changed this demand first; the page now shows its current state",
            )
            return _render_detail(request, demand, status=409, conflict=conflict)
        raise PermissionDenied(
            "您不是该诉求的当前承办人，不能进行此操作",
            "You do not hold this demand and cannot make this move",
        )
    form = form_class(request.POST, demand=demand, user=request.user)
    files = request.FILES.getlist(f"{move}-photos") if move in f.PHOTO_MOVES else []
    count_error = f.photo_count_error(files)
    if not form.is_valid() or count_error:
        if count_error:
            form.add_error("photos", count_error)
        return _render_detail(request, demand, bound=form, status=400)
    kwargs = form.service_kwargs()
    if move in f.PHOTO_MOVES:
        kwargs["photos"] = files
    try:
        if move == "comment":
            SERVICES[move](demand=demand, actor=request.user, **kwargs)
        else:
            SERVICES[move](demand=demand, actor=request.user, version=form.cleaned_data.get("version"), **kwargs)
    except Conflict as exc:
        fresh = selectors.demand_get(user=request.user, pk=pk)
        return _render_detail(request, fresh, status=409, conflict=exc)
    except ValidationFailed as exc:
        attach_error(form, exc)
        return _render_detail(request, demand, bound=form, status=400)
    messages.success(request, _("Done."))
    try:
        selectors.demand_get(user=request.user, pk=pk)
    except NotFound:
        # After escalating or dispatching, a grid leader may no longer see the demand.
        return redirect("demands:list")
    return redirect("demands:detail", pk=pk)


@login_required
def demand_set_category(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder confirms the suggested category or corrects it; either is kept as training data."""
    demand = selectors.demand_get(user=request.user, pk=pk)  # NotFound outside the scope, whatever the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = request.POST.get("version", "")
    try:
        services.demand_set_category(
            demand=demand,
            actor=cast(User, request.user),
            category=request.POST.get("category", ""),
            version=int(version) if version.isdigit() else None,
        )
    except Conflict as exc:
        fresh = selectors.demand_get(user=request.user, pk=pk)
        return _render_detail(request, fresh, status=409, conflict=exc)
    except ValidationFailed as exc:
        return _render_detail(request, demand, status=400, category_error=f"{exc.zh} / {exc.en}")
    messages.success(request, _("The category was saved."))
    return redirect("demands:detail", pk=pk)


@login_required
@require_GET
def category_suggestion(request: HttpRequest) -> HttpResponse:
    """htmx: the triage suggestion for what staff are typing on the intake form (nothing is stored)."""
    title = (request.GET.get("title") or "")[:200]
    description = (request.GET.get("description") or "")[:4000]
    suggestion = selectors.text_suggestion(title=title, description=description)
    return render(request, "demands/partials/_suggestion.html", {"suggestion": suggestion})


@login_required
def demand_new(request: HttpRequest) -> HttpResponse:
    """Staff enter what a resident said in a WeChat group, on a visit or by phone."""
    scope = scope_for(request.user)
    if scope.read_only:
        raise PermissionDenied("只读账号不能登记诉求", "A read-only account cannot file demands")
    areas = registry_selectors.area_list(user=request.user).exclude(level=Level.CITY)
    status = 200
    if request.method == "POST":
        form = f.StaffDemandForm(request.POST, areas=areas)
        files = request.FILES.getlist("photos")
        count_error = f.photo_count_error(files)
        if form.is_valid() and count_error:
            form.add_error("photos", count_error)
        elif form.is_valid():
            data = form.cleaned_data
            area = data["area"]
            try:
                submitted = services.demand_submit(
                    channel=data["channel"],
                    title=data["title"],
                    description=data["description"],
                    kind=data["kind"],
                    category=data["category"],
                    urgency=data["urgency"],
                    reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"],
                    grid=area if area.level == Level.GRID else None,
                    area=None if area.level == Level.GRID else area,
                    lat=data["lat"],
                    lng=data["lng"],
                    datum=data["datum"],
                    address=data["address"],
                    photos=files,
                    actor=cast(User, request.user),
                    idempotency_key=data["idempotency_key"],
                )
            except ValidationFailed as exc:
                attach_error(form, exc)
            else:
                demand = submitted.demand
                if data["category"] is not None and not submitted.replayed:
                    # Staff chose the category themselves: their answer to the suggestion is training data.
                    services.demand_category_feedback(demand=demand, actor=cast(User, request.user))
                messages.success(request, _("Demand %(code)s was filed.") % {"code": demand.code})
                return redirect("demands:detail", pk=demand.pk)
        status = 400
    else:
        form = f.StaffDemandForm(areas=areas, initial={"idempotency_key": str(uuid.uuid4())})
    context = {"form": form, "categories": f.category_groups(), "has_areas": areas.exists(), "max_photos": f.MAX_PHOTOS}
    return render(request, "demands/new.html", context, status=status)


# Verification before closing (核查): the verifier's moves are posted to `demand_move` like the holder's
# (`demand_can` lists them for the verifier); the detail page shows them in their own panel
# (templates/demands/partials/_verification.html), so they are not in MOVE_ORDER.
SERVICES["verify"] = services.demand_verify
SERVICES["verify_back"] = services.demand_verify_back
