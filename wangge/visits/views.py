"""Pages of the visits app: the grid leader's workbench, the visit form, the visit log, opinions, coverage.

The workbench is phone-first (360 px in the WeChat browser, slow network): small HTML, htmx to
swap one demand card after a move, and a tiny script for the countdowns. Views read through
selectors (scoped by the acting user) and write through services (visits' and demands').
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.htmx import render_page_or_fragment
from wangge.core.photos import MAX_PHOTOS
from wangge.demands import selectors as demand_selectors
from wangge.demands import services as demand_services
from wangge.demands.models import Demand
from wangge.demands.transitions import STAFF_MOVES, allowed_moves
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Level
from wangge.visits import selectors, services
from wangge.visits.forms import FollowUpForm, VisitForm, attach_error
from wangge.visits.models import FollowUp, How, OpinionCategory

# The moves a grid leader makes from the workbench; the rest are on the demand's own page.
WORKBENCH_MOVES = ("accept", "resolve", "escalate")
PAGE_SIZE = 30


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def card_moves(demand: Demand) -> list[str]:
    """Workbench moves open on a demand the user holds (my_queue holds only those): no query."""
    allowed = {m.value for m in allowed_moves(demand.state, demand.holder_kind or "grid") & STAFF_MOVES}
    if demand.holder_area is None or demand.holder_area.parent_id is None:
        allowed.discard("escalate")
    return [m for m in WORKBENCH_MOVES if m in allowed]


def _cards(demands: list[Demand]) -> list[dict[str, Any]]:
    return [{"demand": d, "moves": card_moves(d)} for d in demands]


def _now_ms() -> int:
    return int(clock.now().timestamp() * 1000)


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """The grid leader's home: demands to take with their countdown, demands in hand, households by last visit."""
    bench = selectors.workbench(user=request.user)
    start, _end = selectors.month_bounds()
    context = {
        "bench": bench,
        "waiting": _cards(bench.waiting),
        "in_progress": _cards(bench.in_progress),
        "month_start": start,
        "now_ms": _now_ms(),
        "max_photos": MAX_PHOTOS,
        "read_only": scope_for(request.user).read_only,
    }
    return render(request, "visits/workbench.html", context)


def _card_response(
    request: HttpRequest, demand: Demand, *, error: WanggeError | None = None, **extra: Any
) -> HttpResponse:
    moves = sorted(
        demand_services.demand_can(demand=demand, user=request.user) & set(WORKBENCH_MOVES), key=WORKBENCH_MOVES.index
    )
    context = {"card": {"demand": demand, "moves": moves}, "error": error, "now_ms": _now_ms(), **extra}
    return render(request, "visits/partials/_demand_card.html", context)


@login_required
def demand_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """Accept, resolve (note and camera photo) or escalate one demand from the workbench, with the shown version."""
    # Scope first: a demand outside the user's scope is not found, whatever the method.
    demand = demand_selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if move not in WORKBENCH_MOVES:
        raise NotFound(_("no such move"))
    raw_version = request.POST.get("version", "")
    version = int(raw_version) if raw_version.isdigit() else None
    actor = cast(User, request.user)
    photos = request.FILES.getlist("photos") if move == "resolve" else []
    try:
        if len(photos) > MAX_PHOTOS:
            raise ValidationFailed(_("At most %(limit)s photos at once"), params={"limit": MAX_PHOTOS}, field="photos")
        if move == "accept":
            moved = demand_services.demand_accept(demand=demand, actor=actor, version=version)
        elif move == "resolve":
            moved = demand_services.demand_resolve(
                demand=demand, actor=actor, result=request.POST.get("result", ""), photos=photos, version=version
            )
        else:
            moved = demand_services.demand_escalate(
                demand=demand, actor=actor, reason=request.POST.get("reason", ""), version=version
            )
    except (Conflict, ValidationFailed, PermissionDenied) as exc:
        if not _is_htmx(request):
            messages.error(request, str(exc))
            return redirect("visits:workbench")
        try:
            fresh = demand_selectors.demand_get(user=request.user, pk=pk)
        except NotFound:
            return render(request, "visits/partials/_demand_gone.html", {"demand": demand, "error": exc})
        # Keep what was typed when only the input was wrong (a lost race shows the fresh state instead).
        typed = request.POST if isinstance(exc, ValidationFailed) else {}
        return _card_response(request, fresh, error=exc, typed=typed, failed_move=move)
    done = {
        "accept": _("Accepted %(code)s."),
        "resolve": _("Resolved %(code)s."),
        "escalate": _("Escalated %(code)s."),
    }[move] % {"code": moved.code}
    if not _is_htmx(request):
        messages.success(request, done)
        return redirect("visits:workbench")
    if move == "accept":
        return _card_response(request, moved, done=done)
    # Resolved or escalated: it leaves my hands (and maybe my sight).
    return render(request, "visits/partials/_demand_gone.html", {"demand": moved, "done": done})


def _categories() -> list[Any]:
    return demand_selectors.category_tree()


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    """Log a visit in under a minute: household (from the workbench), how, notes, an opinion, a demand."""
    scope = scope_for(request.user)
    if scope.read_only:
        raise PermissionDenied(_("A read-only account cannot log visits"))
    households = selectors.households_by_last_visit(user=request.user)
    status = 200
    if request.method == "POST":
        form = VisitForm(request.POST, households=households)
        photos = request.FILES.getlist("demand_photos")
        if len(photos) > MAX_PHOTOS and form.is_valid():
            form.add_error(
                "demand_photos" if "demand_photos" in form.fields else None,
                f"一次最多上传 {MAX_PHOTOS} 张照片 / At most {MAX_PHOTOS} photos at once",
            )
        elif form.is_valid():
            try:
                visit = services.visit_log(visitor=cast(User, request.user), **form.service_kwargs(photos=photos)).visit
            except (ValidationFailed, PermissionDenied, Conflict) as exc:
                attach_error(form, exc)
            else:
                if visit.demand_id and visit.demand is not None:
                    messages.success(
                        request, _("Visit logged; demand %(code)s was filed.") % {"code": visit.demand.code}
                    )
                else:
                    messages.success(request, _("Visit logged."))
                return redirect("visits:workbench")
        status = 400
        chosen = str(form.data.get("household", ""))
    else:
        chosen = request.GET.get("household", "")
        form = VisitForm(households=households, initial={"how": How.IN_PERSON, "household": chosen or None})
    # The household chosen on the workbench, shown as a card instead of a list to pick from.
    household = households.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if request.method != "POST" and chosen and household is None:
        raise NotFound(_("household not found"))
    if household is not None and not form.is_bound:
        # The register part of the form starts from the household as it is now (and its version).
        form.initial.update(
            register_version=household.version, care_tags=household.tag_list, moved_out=household.moved_out
        )
    context = {
        "form": form,
        "household": household,
        "categories": _categories(),
        "max_photos": MAX_PHOTOS,
        "opinion_open": bool(form.is_bound and (form.data.get("opinion_text") or form["opinion_text"].errors)),
        "demand_open": bool(
            form.is_bound
            and (
                form.data.get("raise_demand")
                or form.data.get("demand_description")
                or form.errors.keys() & {"demand_description", "demand_category", "demand_photos"}
            )
        ),
    }
    return render(request, "visits/visit_new.html", context, status=status)


def _date_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visit log (民情日志) of the user's areas, newest first, a fixed number of queries a page."""
    how = request.GET.get("how") or None
    area = None
    if (request.GET.get("area") or "").isdigit():
        area = registry_selectors.area_get(user=request.user, pk=int(request.GET["area"]))
    qs = selectors.visit_list(
        user=request.user,
        area=area,
        how=how if how in How.values else None,
        date_from=_date_param(request.GET.get("from")),
        date_to=_date_param(request.GET.get("to")),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "hows": How.choices, "raw": request.GET, "area": area}
    return render_page_or_fragment(request, "visits/visit_list.html", "visits/partials/_visit_rows.html", context)


@login_required
def opinions(request: HttpRequest) -> HttpResponse:
    """Opinions heard in the user's areas with their follow-up; staff who may write adopt or answer them."""
    state = request.GET.get("state") or None
    category = request.GET.get("category") or None
    qs = selectors.opinion_list(
        user=request.user,
        state=state if state in FollowUp.values else None,
        category=category if category in OpinionCategory.values else None,
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "states": FollowUp.choices,
        "categories": OpinionCategory.choices,
        "raw": request.GET,
        "can_follow": not scope_for(request.user).read_only,
    }
    return render_page_or_fragment(request, "visits/opinions.html", "visits/partials/_opinion_rows.html", context)


@login_required
def opinion_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Adopt or answer one opinion (POST), then back to the list."""
    opinion = selectors.opinion_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("visits:opinions")
    try:
        services.opinion_follow_up(
            opinion=opinion,
            actor=cast(User, request.user),
            state=form.cleaned_data["state"],
            answer=form.cleaned_data.get("answer") or "",
        )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Follow-up saved."))
    return redirect("visits:opinions")


@login_required
def coverage(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Visit coverage this month by area, from the user's own areas down to one grid's households."""
    area = registry_selectors.area_get(user=request.user, pk=pk) if pk is not None else None
    if area is None:
        # One area of my own (the usual case): start from what lies below it.
        roots = list(registry_selectors.area_roots(user=request.user)[:2])
        area = roots[0] if len(roots) == 1 else None
    month = request.GET.get("month") or ""
    day = _date_param(f"{month}-01" if month else None)
    cover = selectors.coverage(user=request.user, parent=area, day=day)
    households: list[Any] = []
    if area is not None and area.level == Level.GRID:
        households = list(selectors.households_by_last_visit(user=request.user, area=area))
    context = {
        "cover": cover,
        "area": area,
        "breadcrumb": registry_selectors.area_breadcrumb(user=request.user, area=area) if area else [],
        "households": households,
        "month_start": cover.month_start,
    }
    return render(request, "visits/coverage.html", context)
