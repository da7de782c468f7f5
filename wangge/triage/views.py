"""Triage pages for staff: the week's hot issues inside the user's scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from wangge.core.htmx import render_page_or_fragment
from wangge.triage import selectors

# The periods offered on the page (days); a week is what the dashboard shows.
PERIODS = (7, 30, 90)


@login_required
@require_GET
def hot(request: HttpRequest) -> HttpResponse:
    """Groups of demands about the same problem in the period, hottest first, with links to the demands."""
    raw = request.GET.get("days", "7")
    days = int(raw) if raw.isdigit() and int(raw) in PERIODS else 7
    issues = selectors.hot_issues_for(user=request.user, days=days)
    context = {"hot_issues": issues, "days": days, "periods": PERIODS}
    return render_page_or_fragment(request, "triage/hot.html", "triage/partials/_hot_issues.html", context)
