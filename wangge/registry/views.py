from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.files import refuse_oversized_upload
from wangge.core.htmx import render_page_or_fragment
from wangge.registry import permissions, selectors
from wangge.registry.boundaries.services import boundary_preview
from wangge.registry.forms import HouseholdForm, attach_error, people_drafts, people_formset
from wangge.registry.importing import import_job_create
from wangge.registry.importing.forms import ImportUploadForm
from wangge.registry.importing.jobs import import_job_context
from wangge.registry.importing.selectors import can_import, import_cities, import_job_get, import_job_list
from wangge.registry.importing.template import template_workbook
from wangge.registry.models import CareTag, ImportJob, Level
from wangge.registry.services import household_move_decide, household_move_propose, household_update


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
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One household: its details (phone masked, ID never shown), a pending move, and its history."""
    household = selectors.household_get(user=request.user, pk=pk)
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "history": selectors.household_history(household=household),
            "people": selectors.household_people(household=household),
            "pending_move": selectors.pending_move(household=household),
            "can_edit": permissions.can_edit_household(request.user, household.area_path),
        },
    )


@login_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid leader's form: details, care tags, moved out, deceased, and a move the village approves.

    The edit and the move proposal are one transaction: a refused proposal leaves the edit unwritten.
    """
    household = selectors.household_for_edit(user=request.user, pk=pk)
    targets = selectors.move_targets(household=household)
    people = list(selectors.household_people(household=household))
    status = 200
    if request.method == "POST":
        form = HouseholdForm(request.POST, household=household, targets=targets)
        formset = people_formset(request.POST, people)
        if form.is_valid() and formset.is_valid():
            try:
                with transaction.atomic():
                    household_update(
                        household=household,
                        by=request.user,
                        people=people_drafts(formset),
                        **form.service_kwargs(),
                    )
                    if form.cleaned_data.get("to_grid") is not None:
                        household_move_propose(
                            household=household,
                            to_grid=form.cleaned_data["to_grid"],
                            by=request.user,
                            reason=form.cleaned_data.get("reason") or "",
                        )
            except (ValidationFailed, Conflict) as exc:
                attach_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("The household register was updated."))
                return redirect("registry:household", pk=household.pk)
        else:
            status = 400
    else:
        form = HouseholdForm(household=household, targets=targets)
        formset = people_formset(None, people)
    return render(
        request,
        "registry/household_edit.html",
        {
            "household": household,
            "form": form,
            "people": formset,
            "pending_move": selectors.pending_move(household=household),
        },
        status=status,
    )


@login_required
def move_queue(request: HttpRequest) -> HttpResponse:
    """Moves between grids waiting for the village's decision."""
    page = Paginator(selectors.move_queue(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "registry/move_queue.html", {"page": page})


@login_required
def move_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (the household moves) or refuse one proposed move (POST)."""
    move = selectors.move_request_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse"):
        raise ValidationFailed(_("Decision: choose approve or refuse"), field="decision")
    try:
        household_move_decide(request=move, by=request.user, approve=decision == "approve")
    except (NotFound, PermissionDenied):
        raise
    except WanggeError as exc:
        messages.error(request, f"{exc.zh} / {exc.en}")
    else:
        messages.success(request, _("Move approved.") if decision == "approve" else _("Move refused."))
    return redirect("registry:moves")


@login_required
def grid_size_report(request: HttpRequest) -> HttpResponse:
    """Micro-grids outside the advised 10 to 15 households."""
    qs = selectors.grids_outside_advised(user=request.user)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "registry/grid_sizes.html", {"page": page})


# --- registry import (city administrators) ------------------------------------------------


@login_required
def import_index(request: HttpRequest) -> HttpResponse:
    """Upload a county spreadsheet (city administrators only) and list the city's import jobs."""
    cities = import_cities(user=request.user)
    form = ImportUploadForm(cities=cities)
    status = 200
    if request.method == "POST":
        refuse_oversized_upload(request, settings.IMPORT_MAX_BYTES)
        form = ImportUploadForm(request.POST, request.FILES, cities=cities)
        if form.is_valid():
            job = import_job_create(
                user=request.user,
                city=form.cleaned_data["city"],
                upload=form.cleaned_data["file"],
                keep_good=form.cleaned_data["keep_good"],
            )
            return redirect("registry:import_job", pk=job.pk)
        status = 400
    jobs = Paginator(import_job_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/import.html",
        {"form": form, "page": jobs, "max_mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
        status=status,
    )


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """The blank workbook to fill in (ID and phone columns already formatted as text)."""
    if not can_import(request.user):
        raise PermissionDenied(_("only city administrators may import the registry"))
    return HttpResponse(
        template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": content_disposition_header(True, "微网格户籍导入模板.xlsx") or "attachment"},
    )


@login_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One registry or boundary import job: a progress bar polled by htmx every second, then the result
    and every error."""
    job = import_job_get(user=request.user, pk=pk)
    context = import_job_context(
        job, poll_url=reverse("registry:import_job", args=[job.pk]), page=request.GET.get("page")
    )
    back = "registry:boundaries" if job.kind == ImportJob.Kind.BOUNDARIES else "registry:import"
    context["back_url"] = reverse(back)
    preview = None if job.is_active else boundary_preview(job)
    if preview is not None:
        context["preview"] = preview
        context["levels"] = [(Level(level).label, n) for level, n in preview.get("levels", [])]
    response = render_page_or_fragment(
        request, "registry/import_job.html", "registry/partials/_import_job.html", context
    )
    if preview is not None and getattr(request, "htmx", None):
        response["HX-Refresh"] = "true"  # the map needs the whole page (its script), not the polled fragment
    return response
