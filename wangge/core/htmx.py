"""Page-or-fragment rendering for htmx (after NetBox): one view serves both."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_fragment(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    is_htmx = bool(getattr(request, "htmx", False)) and not getattr(request.htmx, "boosted", False)
    return render(request, fragment if is_htmx else page, context, status=status)
