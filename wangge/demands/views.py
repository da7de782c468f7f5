"""Pages of demands: the resident's report and tracking pages (no account) and the staff pages.

Views read through `selectors` (scoped by the acting user, or by the private tracking token) and
write through `services`; they only translate between forms and those calls. Errors raised by a
service are shown next to the field they name; a lost race shows the conflict and the fresh
state; a move by someone who does not hold the demand answers 403 with the bilingual message.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wangge.accounts.models import User
from wangge.accounts.scope import scope_for
from wangge.core import ratelimit
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.files import private_file_response
from wangge.core.htmx import render_page_or_fragment
from wangge.core.links import public_base, public_url
from wangge.demands import forms as f
from wangge.demands import lookup_forms as lf
from wangge.demands import permissions, qrcodes, selectors, services
from wangge.demands.models import (
    FINAL_STATES,
    Channel,
    Demand,
    DemandPhoto,
    State,
    Urgency,
    Visibility,
)
from wangge.demands.services.lookup import LOOKUP_CODE_TTL
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Area, Level

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
# A QR sheet per grid; a town's thousand grids would be a print job nobody wants from one click.
SHEET_LEVELS = (Level.VILLAGE, Level.BRANCH, Level.GRID)
# Only the holder (who can accept or resolve) sees the resident's full phone number.
# The caller back (回访) must see the number to dial, like the holder.
HOLDER_MOVES = {"accept", "resolve", "call_back"}
pii_log = logging.getLogger("wangge.pii")


def attach_error(form: Any, error: WanggeError) -> None:
    """Show a service's error next to the field it names (or above the form when it names none)."""
    field = error.field if error.field in form.fields else f.FIELD_ALIASES.get(error.field or "", error.field)
    message = f"{error.zh} / {error.en}"
    if field and field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, message)


R = TypeVar("R", bound=HttpResponseBase)


def _private(response: R) -> R:
    # Pages reached by a private token: never cached by a proxy, never indexed.
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _serve_photo(photo: DemandPhoto) -> FileResponse:
    return private_file_response(photo.image, missing=gettext_lazy("photo file not found"))


# --- resident pages (no account) -----------------------------------------------------------


def _public_places(form: Any) -> dict[str, Any]:
    """Towns, and the villages and grids of what was chosen, to rebuild the cascading selects.

    Area names are public (they are printed on every QR sheet); nothing below a grid is read here.
    """
    data = form.data if form.is_bound else {}
    town_id, village_id = str(data.get("town") or ""), str(data.get("village") or "")
    towns = registry_selectors.public_towns()
    villages = registry_selectors.public_villages_of(town_id)
    grids = registry_selectors.public_grids_of(village_id)
    return {"towns": towns, "villages": villages, "grids": grids, "town_id": town_id, "village_id": village_id}


def _qr_grid(code: str) -> tuple[Area | None, list[Area]]:
    """The grid named by a QR code with its ancestors' names (village, town) for the resident to check."""
    return registry_selectors.public_grid_by_code(code)


# Query parameters the report page copies into its form, with the longest value it keeps.
REPORT_PREFILL = {"description": 2000, "address": 300, "lat": 32, "lng": 32}


@never_cache
def report(request: HttpRequest) -> HttpResponse:
    """The resident's page: say what is wrong, where, with photos; get a code and a tracking link.

    Before a new demand is made, open demands nearby that look the same are offered: the resident
    follows one of them (and is told when it is resolved) or still adds theirs, with what they typed kept.
    """
    status = 200
    photos_lost = False
    offers: list[selectors.DuplicateOffer] = []
    if request.method == "POST":
        form = f.ReportForm(request.POST)
        files = request.FILES.getlist("photos")
        following = bool(request.POST.get("follow"))
        try:
            # A report is counted when it is accepted (below): not for a typo, nor for the duplicate offer.
            if following:
                ratelimit.check(request, "follow", settings.WANGGE_FOLLOW_RATE)
        except ratelimit.RateLimited as exc:
            form.is_valid()
            form.add_error(None, str(exc))
            status = exc.status
        else:
            if following:
                form.is_valid()  # what was typed is shown again if following fails
                try:
                    demand_pk = f.follow_offer_pk(request.POST["follow"])
                    follower = services.demand_follow(demand=demand_pk, phone=request.POST.get("phone", ""))
                except (ValidationFailed, Conflict, NotFound) as exc:
                    attach_error(form, exc)
                    status = 400 if isinstance(exc, ValidationFailed) else exc.status
                    offers = _report_offers(form)
                else:
                    return redirect(reverse("demands:follow_track", args=[follower.token]) + "?new=1")
            elif form.is_valid():
                count_error = f.photo_count_error(files)
                if count_error:
                    form.add_error("photos", count_error)
                else:
                    data = form.cleaned_data
                    if not data["add_anyway"]:
                        offers = _report_offers(form)
                    limited = _report_limited(request, data["phone"]) if not offers else None
                    if limited is not None:
                        form.add_error(None, str(limited))
                        status = limited.status
                    elif not offers:
                        try:
                            result = services.demand_submit(
                                channel=Channel.RESIDENT_WEB,
                                title=f.make_title(data["description"]),
                                description=data["description"],
                                kind=data["kind"],
                                category=data["category"],
                                urgency=Urgency.URGENT if data["urgent"] else Urgency.NORMAL,
                                reporter_name=data["name"],
                                reporter_phone=data["phone"],
                                grid=data["grid_area"],
                                area=data["area"],
                                lat=data["lat"],
                                lng=data["lng"],
                                address=data["address"],
                                photos=files,
                                idempotency_key=data["idempotency_key"],
                            )
                        except ValidationFailed as exc:
                            attach_error(form, exc)
                        else:
                            if not result.replayed:
                                _report_count(request, data["phone"])
                            return redirect(reverse("demands:track", args=[result.demand.tracking_token]) + "?new=1")
            if status == 200 and not offers:
                status = 400
        photos_lost = bool(files)
        grid_code = request.POST.get("grid", "")
    else:
        grid_code = request.GET.get("grid", "").strip()
        # A link from the WeChat official account (or elsewhere) may carry what the resident already said.
        prefill = {name: request.GET.get(name, "").strip()[:limit] for name, limit in REPORT_PREFILL.items()}
        form = f.ReportForm(
            initial={"grid": grid_code, "idempotency_key": str(uuid.uuid4())}
            | {name: value for name, value in prefill.items() if value}
        )
    grid, grid_above = _qr_grid(grid_code)
    context = {
        "form": form,
        "grid": grid,
        "grid_above": grid_above,
        "grid_unknown": bool(grid_code) and grid is None,
        "categories": f.category_groups(),
        "photos_lost": photos_lost,
        "max_photos": f.MAX_PHOTOS,
        # Code, public title and state only: nothing of the other resident is shown.
        "offers": [{"demand": o.demand, "follow": f.follow_offer(o.demand.pk)} for o in offers],
        **_public_places(form),
    }
    return render(request, "demands/report.html", context, status=status)


# Accepted reports per phone and per client IP (the IP limit is higher: a village may share one connection).
REPORT_LIMITS = (("report-phone", "WANGGE_REPORT_RATE", True), ("report-ip", "WANGGE_REPORT_IP_RATE", False))


def _report_limited(request: HttpRequest, phone: str) -> ratelimit.RateLimited | None:
    try:
        for scope, setting, by_phone in REPORT_LIMITS:
            ratelimit.peek(request, scope, getattr(settings, setting), key=phone if by_phone else None)
    except ratelimit.RateLimited as exc:
        return exc
    return None


def _report_count(request: HttpRequest, phone: str) -> None:
    for scope, setting, by_phone in REPORT_LIMITS:
        ratelimit.count(request, scope, getattr(settings, setting), key=phone if by_phone else None)


def _report_offers(form: f.ReportForm) -> list[selectors.DuplicateOffer]:
    """Open demands nearby like the one typed (none while the form itself has errors)."""
    if not form.is_valid():
        return []
    data = form.cleaned_data
    return selectors.intake_duplicates(
        title=f.make_title(data["description"]),
        description=data["description"],
        category=data["category"],
        grid=data["grid_area"],
        area=data["area"],
        lat=data["lat"],
        lng=data["lng"],
        address=data["address"],
        idempotency_key=data["idempotency_key"],
    )


@never_cache
def lookup(request: HttpRequest) -> HttpResponse:
    """Find my demand (查询我的诉求): code and phone, a one-time SMS code, then the private tracking page.

    Step one answers the same whether or not the pair exists; only the phone's owner can go further.
    """
    status = 200
    step = "ask"
    form: lf.LookupForm = lf.LookupForm()
    if request.method == "POST":
        verifying = request.POST.get("do") == "verify"
        form = lf.LookupVerifyForm(request.POST) if verifying else lf.LookupForm(request.POST)
        step = "verify" if verifying else "ask"
        try:
            if verifying:
                ratelimit.check(request, "lookup-verify", settings.WANGGE_LOOKUP_VERIFY_RATE)
            elif form.is_valid():
                ratelimit.check(request, "lookup-send", settings.WANGGE_LOOKUP_IP_RATE)
                phone = form.cleaned_data["phone"]
                ratelimit.check(request, "lookup-phone", settings.WANGGE_LOOKUP_PHONE_RATE, key=phone)
        except ratelimit.RateLimited as exc:
            form.is_valid()
            form.add_error(None, str(exc))
            status = exc.status
        else:
            if not form.is_valid():
                status = 400
            elif not verifying:
                services.lookup_code_send(code=form.cleaned_data["code"], phone=form.cleaned_data["phone"])
                step = "verify"
                form = lf.LookupVerifyForm(initial=form.cleaned_data)
            else:
                data = form.cleaned_data
                outcome = services.lookup_code_verify(code=data["code"], phone=data["phone"], otp=data["otp"])
                if outcome.path:
                    return _private(redirect(outcome.path))
                if outcome.problem == "exhausted":
                    form.add_error("otp", _("Too many wrong codes. Please ask for a new one."))
                else:
                    form.add_error("otp", _("The code is wrong or has expired."))
                status = 400
    context = {"form": form, "step": step, "ttl_minutes": int(LOOKUP_CODE_TTL.total_seconds() // 60)}
    return _private(render(request, "demands/lookup.html", context, status=status))


@never_cache
@require_GET
@ratelimit.ratelimit("short-link", "WANGGE_SHORT_LINK_RATE", methods=("GET",))
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """The short link of an SMS (/t/<code>) opens the reporter's or the follower's private tracking page."""
    return _private(redirect(selectors.tracking_path_by_short_code(code=code)))


def follow_track(request: HttpRequest, token: str) -> HttpResponse:
    """A follower's private page: the followed demand's state and public timeline, and a public comment.

    Only the reporter rates or adds information; a follower sees no personal data of anyone else.
    """
    follower = selectors.follower_by_token(token=token)
    status = 200
    comment_form = f.ResidentCommentForm(prefix="comment")
    if request.method == "POST":
        bound = f.ResidentCommentForm(request.POST, prefix="comment")
        try:
            ratelimit.check(request, "track", settings.WANGGE_TRACK_RATE)
        except ratelimit.RateLimited as exc:
            bound.is_valid()
            bound.add_error(None, str(exc))
            status = exc.status
        else:
            if bound.is_valid():
                try:
                    services.demand_follower_comment(follower=follower, token=token, body=bound.cleaned_data["body"])
                except (ValidationFailed, Conflict, PermissionDenied) as exc:
                    attach_error(bound, exc)
                else:
                    messages.success(request, _("Your message was sent."))
                    return redirect("demands:follow_track", token=token)
            status = status if status != 200 else 400
        comment_form = bound
    demand = selectors.demand_for_follower(follower=follower)
    moved_to = selectors.follower_after_merge(demand=demand, phone=follower.phone)
    context = {
        "demand": demand,
        "follower": follower,
        "token": token,
        "is_new": request.GET.get("new") == "1",
        "track_url": public_url(reverse("demands:follow_track", args=[token])),
        "timeline": selectors.demand_timeline(demand=demand, public=True),
        "comment_form": comment_form,
        "moved_to": moved_to,
    }
    return _private(render(request, "demands/follow_track.html", context, status=status))


@require_GET
def places(request: HttpRequest) -> HttpResponse:
    """htmx: the villages of a town, or the grids of a village, as <option>s (public names only)."""
    town_id, village_id = request.GET.get("town", ""), request.GET.get("village", "")
    if town_id:
        villages = registry_selectors.public_villages_of(town_id)
        return render(request, "demands/partials/_village_options.html", {"villages": villages})
    grids = registry_selectors.public_grids_of(village_id)
    return render(request, "demands/partials/_grid_options.html", {"grids": grids})


def _public_photos(demand: Demand) -> list[DemandPhoto]:
    """Photos the resident may see: their own, and those of public events (the result)."""
    return list(demand.photos.filter(Q(by_resident=True) | Q(event__is_public=True) | Q(event__isnull=True)))


def track(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's private page: state, public timeline, add information, comment, rate."""
    demand = selectors.demand_by_token(token=token)
    status = 200
    add_form = f.AddInfoForm(prefix="info")
    comment_form = f.ResidentCommentForm(prefix="comment")
    rate_form = f.RateForm(prefix="rate")
    if request.method == "POST":
        action = request.POST.get("do", "")
        form: Any = {"add_info": f.AddInfoForm, "comment": f.ResidentCommentForm, "rate": f.RateForm}.get(action)
        if form is None:
            raise ValidationFailed("未知的操作", "unknown action", field="do")
        prefix = {"add_info": "info", "comment": "comment", "rate": "rate"}[action]
        bound = form(request.POST, prefix=prefix)
        files = request.FILES.getlist("info-photos") if action == "add_info" else []
        try:
            ratelimit.check(request, "track", settings.WANGGE_TRACK_RATE)
        except ratelimit.RateLimited as exc:
            bound.is_valid()
            bound.add_error(None, str(exc))
            status = exc.status
        else:
            count_error = f.photo_count_error(files)
            if bound.is_valid() and count_error:
                bound.add_error("photos", count_error)
            elif bound.is_valid():
                try:
                    if action == "add_info":
                        services.demand_add_info(
                            demand=demand, token=token, text=bound.cleaned_data["text"], photos=files
                        )
                        messages.success(request, _("Thank you, your information was added."))
                    elif action == "comment":
                        services.demand_comment(
                            demand=demand, body=bound.cleaned_data["body"], visibility=Visibility.PUBLIC, token=token
                        )
                        messages.success(request, _("Your message was sent."))
                    else:
                        services.demand_rate(
                            demand=demand,
                            satisfaction=bound.cleaned_data["satisfaction"],
                            reason=bound.cleaned_data.get("reason", ""),
                            token=token,
                        )
                        messages.success(request, _("Thank you for rating."))
                except (ValidationFailed, Conflict, PermissionDenied) as exc:
                    attach_error(bound, exc)
                else:
                    return redirect("demands:track", token=token)
            status = status if status != 200 else 400
        if action == "add_info":
            add_form = bound
        elif action == "comment":
            comment_form = bound
        else:
            rate_form = bound
        demand = selectors.demand_by_token(token=token)
    context = {
        "demand": demand,
        "token": token,
        "is_new": request.GET.get("new") == "1",
        "track_url": public_url(reverse("demands:track", args=[token])),
        "timeline": selectors.demand_timeline(demand=demand, public=True),
        "add_form": add_form,
        "comment_form": comment_form,
        "rate_form": rate_form,
        "can_rate": demand.state == State.RESOLVED,
        "can_add": demand.is_open or demand.state == State.RESOLVED,
        "max_photos": f.MAX_PHOTOS,
        "moved_to": selectors.follower_after_merge(demand=demand, phone=demand.reporter_phone),
    }
    return _private(render(request, "demands/track.html", context, status=status))


def track_photo(request: HttpRequest, token: str, pk: int) -> FileResponse:
    """A photo of the resident's own demand, by its token (never by a public media URL)."""
    demand = selectors.demand_by_token(token=token)
    photo = next((p for p in _public_photos(demand) if p.pk == pk), None)
    if photo is None:
        raise NotFound("找不到照片", "photo not found")
    return _private(_serve_photo(photo))


# --- staff pages ----------------------------------------------------------------------------


@login_required
def demand_index(request: HttpRequest) -> HttpResponse:
    """My queue (waiting for me or held by me) and the scoped list with simple filters."""
    filters = selectors.DemandFilter.from_params(request.GET, user=request.user)
    qs = selectors.demand_list(user=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
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
) -> HttpResponse:
    can = services.demand_can(demand=demand, user=request.user)
    move_forms = []
    for move in MOVE_ORDER:
        if move not in can:
            continue
        if bound is not None and bound.move == move:
            form = bound
        else:
            form = f.MOVE_FORMS[move](demand=demand, user=request.user)
        move_forms.append(form)
    reporter_phone = ""
    if demand.reporter_phone and can & HOLDER_MOVES:
        # The holder must be able to call the resident back; every such unmasked view is logged.
        reporter_phone = demand.reporter_phone
        pii_log.info("unmasked reporter phone shown: demand=%s user=%s", demand.pk, request.user.pk)
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
        "conflict": conflict,
        "photo_moves": f.PHOTO_MOVES,
        "max_photos": f.MAX_PHOTOS,
    }
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


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A demand's photo for staff who may see the demand (never a public media URL)."""
    item = DemandPhoto.objects.filter(pk=pk).only("id", "demand_id", "image").first()
    if item is None:
        raise NotFound("找不到照片", "photo not found")
    selectors.demand_get(user=request.user, pk=item.demand_id)  # NotFound outside the user's scope
    return _serve_photo(item)


@login_required
def grid_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The PNG QR code of one grid in the user's scope."""
    grid = registry_selectors.area_get(user=request.user, pk=pk)
    if grid.level != Level.GRID:
        raise NotFound("只有微网格有二维码", "only micro-grids have a QR code")
    response = HttpResponse(qrcodes.grid_qr_png(grid), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="grid-{grid.code}.png"'
    return response


@login_required
def grid_qr_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable A4 sheets, one per grid of a village or branch: name, leader, QR, instruction."""
    area = registry_selectors.area_get(user=request.user, pk=pk)
    if area.level not in SHEET_LEVELS:
        raise ValidationFailed(
            "请选择一个村（社区）或党支部来打印二维码",
            "Choose a village or a party branch to print QR codes",
            field="area",
        )
    grids = registry_selectors.area_list(user=request.user, level=Level.GRID).filter(path__startswith=area.path)
    sheets = [{"grid": g, "svg": qrcodes.grid_qr_svg(g), "url": qrcodes.grid_report_url(g)} for g in grids]
    # Town and village names above the grids (public names, printed on every sheet).
    above = list(
        Area.objects.filter(path__in=area.ancestor_paths(), level__in=(Level.TOWN, Level.VILLAGE)).order_by("depth")
    )
    context = {"area": area, "sheets": sheets, "above": above, "public_base": public_base()}
    return render(request, "demands/qr_sheet.html", context)
