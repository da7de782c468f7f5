"""The resident's private tracking page (by its token) and the photos it shows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from wangge.core import ratelimit
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.links import public_url
from wangge.demands import forms as f
from wangge.demands import selectors, services
from wangge.demands.models import Demand, DemandPhoto, State, Visibility
from wangge.demands.views._common import _private, _serve_photo, attach_error


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
                            solved=bound.cleaned_data.get("solved"),
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
        "can_add": demand.is_open or demand.state in (State.RESOLVED, State.VERIFYING),
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
