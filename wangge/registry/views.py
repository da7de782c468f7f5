from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.htmx import render_page_or_fragment
from wangge.registry import selectors
from wangge.registry.models import CareTag, Level


@login_required
def area_index(request: HttpRequest) -> HttpResponse:
    """The top of the user's part of the tree."""
    roots = selectors.area_roots(user=request.user)
    return render(request, "registry/areas.html", {"roots": roots})


@login_required
def area_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One area: its children with their counts, or (for a grid) its households."""
    area = selectors.area_get(user=request.user, pk=pk)
    children = selectors.area_list(user=request.user, parent=area)
    households = None
    if area.level == Level.GRID:
        households = selectors.household_list(user=request.user, area=area)
    return render(
        request,
        "registry/area_detail.html",
        {
            "area": area,
            "crumbs": selectors.area_breadcrumb(user=request.user, area=area),
            "children": children,
            "households": households,
            "outside_advised": selectors.grids_outside_advised(user=request.user, area=area).count()
            if area.level != Level.GRID
            else None,
        },
    )


@login_required
def household_index(request: HttpRequest) -> HttpResponse:
    """Households in scope with care-tag and word filters (htmx refreshes the table)."""
    tag = request.GET.get("tag") or None
    q = request.GET.get("q") or None
    qs = selectors.household_list(user=request.user, tag=tag, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render_page_or_fragment(
        request,
        "registry/households.html",
        "registry/partials/_household_table.html",
        {"page": page, "tag": tag or "", "q": q or "", "tags": CareTag.choices},
    )


@login_required
def grid_size_report(request: HttpRequest) -> HttpResponse:
    """Micro-grids outside the advised 10 to 15 households."""
    qs = selectors.grids_outside_advised(user=request.user)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "registry/grid_sizes.html", {"page": page})
