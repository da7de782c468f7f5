"""The verifier's queue page (待核查); the verifier's moves themselves go through `staff.demand_move`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wangge.demands.verify_queue import verify_queue

PAGE_SIZE = 30


@login_required
@require_GET
def verify_queue_page(request: HttpRequest) -> HttpResponse:
    """Demands waiting for me to verify them on site, the longest waiting first (empty for other roles)."""
    page = Paginator(verify_queue(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "demands/verify_queue.html", {"page": page})
