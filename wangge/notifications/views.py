"""The administrators' outbox: what was sent, what failed and why, and a retry for the dead."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from wangge.core.errors import PermissionDenied
from wangge.core.htmx import render_page_or_fragment
from wangge.notifications import selectors, services
from wangge.notifications.models import State

logger = logging.getLogger("wangge.notifications")


def _require_outbox(request: HttpRequest) -> None:
    if not selectors.outbox_allowed(user=request.user):
        raise PermissionDenied(gettext_lazy("only city administrators may open the outbox"))


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Messages of the administrator's city, newest first, filtered by state; failures stand out."""
    _require_outbox(request)
    state = request.GET.get("state") or ""
    if state not in State.values:
        state = ""
    qs = selectors.outbox_with_attempts(selectors.outbox_list(user=request.user, state=state or None))
    counts = selectors.outbox_counts(user=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render_page_or_fragment(
        request,
        "notifications/outbox.html",
        "notifications/partials/_outbox_table.html",
        {
            "page": page,
            "state": state,
            "states": State.choices,
            "state_counts": [(value, label, counts[value]) for value, label in State.choices],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One message with its whole delivery history; POST action=retry requeues a failed or dead one."""
    _require_outbox(request)
    message = selectors.outbox_get(user=request.user, pk=pk)
    if request.method == "POST":
        if request.POST.get("action") == "retry":
            services.outbox_retry(message=message)
            logger.info("notification #%s requeued by %s", message.pk, request.user)
            messages.success(request, _("Message #%(id)s will be sent again.") % {"id": message.pk})
        back = request.POST.get("next", "")
        if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            return redirect(back)
        return redirect("notifications:message", pk=message.pk)
    return render(
        request,
        "notifications/message.html",
        {"msg": message, "attempts": selectors.outbox_attempts(message=message)},
    )
