"""Page-or-fragment rendering for htmx (after NetBox): one view serves both."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_fragment(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    details = getattr(request, "htmx", None)  # set by django_htmx's middleware
    is_htmx = bool(details) and not getattr(details, "boosted", False)
    return render(request, fragment if is_htmx else page, context, status=status)
