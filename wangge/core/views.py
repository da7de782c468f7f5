from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from wangge.accounts.scope import scope_for
from wangge.registry import selectors as registry_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each user lands on their own areas (or departments), never on anyone else's."""
    if getattr(request.user, "role", "") == "grid_leader" and not request.user.is_superuser:
        # A grid leader's home is the phone workbench (visits app): demands to take, households to visit.
        return redirect("visits:workbench")
    scope = scope_for(request.user)
    roots = list(registry_selectors.area_roots(user=request.user))
    departments = list(registry_selectors.department_list(user=request.user)) if scope.department_ids else []
    return render(request, "core/home.html", {"roots": roots, "departments": departments, "scope": scope})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the load balancer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})
