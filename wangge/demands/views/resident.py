"""The resident's pages without an account: report, lookup by phone, short links, follow, places."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wangge.core import ratelimit
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.links import public_url
from wangge.demands import forms as f
from wangge.demands import lookup_forms as lf
from wangge.demands import selectors, services
from wangge.demands.models import Channel, Urgency
from wangge.demands.public import public_distance, public_view
from wangge.demands.services.lookup import LOOKUP_CODE_TTL
from wangge.demands.views._common import _private, attach_error
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Area


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
REPORT_PREFILL = {"description": 2000, "address": 300, "lat": 32, "lng": 32, "datum": 10}


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
                    reserved = _report_reserve(request, data["phone"]) if not offers else None
                    if isinstance(reserved, ratelimit.RateLimited):
                        form.add_error(None, str(reserved))
                        status = reserved.status
                    elif reserved is not None:
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
                                datum=data["datum"],
                                address=data["address"],
                                photos=files,
                                idempotency_key=data["idempotency_key"],
                                publish_consent=data["publish_consent"],
                                confidential=data["confidential"],
                            )
                        except ValidationFailed as exc:
                            reserved.release()
                            attach_error(form, exc)
                        except BaseException:
                            reserved.release()  # only accepted reports count
                            raise
                        else:
                            if result.replayed:
                                reserved.release()  # counted once, when it was accepted
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
        # Code, public title and place, state and a coarse distance: nothing of the other resident is shown.
        "offers": [
            {
                "demand": o.demand,
                "public": public_view(o.demand),
                "follow": f.follow_offer(o.demand.pk),
                # As coarse as the public point (100 m steps): the offer is public, the door is not.
                "distance": public_distance(o.distance_m),
            }
            for o in offers
        ],
        **_public_places(form),
    }
    return render(request, "demands/report.html", context, status=status)


# Accepted reports per phone and per client IP (the IP limit is higher: a village may share one connection).
REPORT_LIMITS = (("report-phone", "WANGGE_REPORT_RATE", True), ("report-ip", "WANGGE_REPORT_IP_RATE", False))


def _report_limits(phone: str) -> list[ratelimit.Limit]:
    return [(scope, getattr(settings, rate), phone if by_phone else None) for scope, rate, by_phone in REPORT_LIMITS]


def _report_reserve(request: HttpRequest, phone: str) -> ratelimit.Reservation | ratelimit.RateLimited:
    """A place under both report limits (one round trip), or the refusal; released if the report fails."""
    try:
        return ratelimit.reserve_all(request, _report_limits(phone))
    except ratelimit.RateLimited as exc:
        return exc


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
        datum=data["datum"],
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
        # A follower is another resident: they read the demand as the public does (demands.public).
        "seen": public_view(demand),
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
