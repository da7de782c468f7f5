"""The moderation queue (公开审核): what the public reads of each recent demand, decided in one click.

Each row shows the reporter's words redacted of what can be detected (phones, ID and house numbers,
names), prefilled in a text box: "批准公开" publishes the box as it is (or as edited), "不公开"
publishes nothing of the words. Who sees the queue and who decides: `permissions.reads_moderation`
and `permissions.can_moderate` (auditors read it, without buttons).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.demands import permissions, services
from wangge.demands.models import Demand
from wangge.demands.public import MODERATION_STATUSES, moderation_queue, proposed_text, public_view

PAGE_SIZE = 20
STATUS_LABELS = {
    "waiting": gettext_lazy("Waiting for a decision"),
    "published": pgettext_lazy("public text", "Published"),
    "withheld": gettext_lazy("Not published"),
}


def _row(demand: Demand, user: Any) -> dict[str, Any]:
    seen = public_view(demand)
    return {
        "demand": demand,
        "seen": seen,
        "text": demand.public_text or proposed_text(demand),
        "can_decide": permissions.can_moderate(demand=demand, user=user),
    }


@login_required
def publishing(request: HttpRequest) -> HttpResponse:
    """GET: the queue of one status; POST (`demand`, `do` approve|withhold, `text`): one decision."""
    user = request.user
    if not permissions.reads_moderation(user):
        raise PermissionDenied(_("only town staff, city administrators and auditors see the moderation queue"))
    asked = request.GET.get("status") or ""
    status = asked if asked in MODERATION_STATUSES else "waiting"
    if request.method == "POST":
        demand = moderation_queue(user=user, status="any").filter(pk=request.POST.get("demand") or 0).first()
        if demand is None:
            raise NotFound(_("demand not found"))
        try:
            if request.POST.get("do") == "withhold":
                services.demand_publish_withdraw(demand=demand, actor=user)  # type: ignore[arg-type]
                messages.success(request, _("%(code)s: nothing of its words is published.") % {"code": demand.code})
            else:
                services.demand_publish_approve(
                    demand=demand,
                    actor=user,  # type: ignore[arg-type]
                    text=request.POST.get("text", ""),
                )
                messages.success(request, _("%(code)s: the text is published.") % {"code": demand.code})
        except ValidationFailed as exc:
            messages.error(request, f"{demand.code}: {exc.zh} / {exc.en}")
        return redirect(reverse("demands:publishing") + f"?status={status}")
    page = Paginator(moderation_queue(user=user, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "rows": [_row(d, user) for d in page.object_list],
        "page": page,
        "status": status,
        "statuses": [(key, STATUS_LABELS[key]) for key in MODERATION_STATUSES],
    }
    return render(request, "demands/publishing.html", context)
