"""Everyone's landing page (core:home): the grid leader's workbench, or the staff queue and areas."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.dashboards import landing
from wangge.demands.models import WAITING_STATES
from wangge.registry import selectors as registry_selectors

# The landing page's counts, in the order a person reads them (what to take, what is late, what falls due).
QUEUE_LABELS = {
    "new": gettext_lazy("New: waiting to be accepted"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due within %(hours)s hours"),
    "urgent": gettext_lazy("Urgent"),
    "escalated": gettext_lazy("Escalated to me"),
    "open": gettext_lazy("All I hold"),
}
HOT_COUNTS = {"overdue", "urgent", "escalated"}  # shown in red when not zero


# --- home -------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """core:home. Each user lands on their own areas (or departments), never on anyone else's."""
    if getattr(request.user, "role", "") == Role.GRID_LEADER and not request.user.is_superuser:
        # A grid leader's home is the phone workbench (visits app): demands to take, households to visit.
        return redirect("visits:workbench")
    scope = scope_for(request.user)
    roots = list(registry_selectors.area_roots(user=request.user))
    departments = list(registry_selectors.department_list(user=request.user)) if scope.department_ids else []
    queue = landing.landing(user=request.user)
    console_url = reverse("dashboards:console")
    counts = [
        {
            "key": c.key,
            "label": str(QUEUE_LABELS[c.key]) % {"hours": landing.DUE_SOON_HOURS},
            "count": c.count,
            "hot": bool(c.count) and c.key in HOT_COUNTS,
            "url": f"{console_url}?{urlencode(c.params)}",
        }
        for c in queue.counts
    ]
    context = {
        "roots": roots,
        "departments": departments,
        "scope": scope,
        "queue": queue,
        "counts": counts,
        "waiting_states": WAITING_STATES,
    }
    return render(request, "dashboards/home.html", context)
