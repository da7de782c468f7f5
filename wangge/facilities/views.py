"""Pages of the director system: the facility list, a facility, the phone inspection, an inspection, the records.

Each page reads through selectors (scoped) and writes through services; a refused inspection is shown
again with the service's bilingual message next to the item it names, nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core import clock
from wangge.core.errors import PermissionDenied, ValidationFailed, WanggeError
from wangge.core.files import private_file_response
from wangge.facilities import selectors, services
from wangge.facilities.models import DirectorLevel, FacilityDirector


@login_required
def facility_index(request: HttpRequest) -> HttpResponse:
    """Facilities in the user's scope with their last inspection and state; a director's own ones first."""
    q = (request.GET.get("q") or "").strip()
    type_code = request.GET.get("type") or None
    state = request.GET.get("state") or None
    mine = request.GET.get("mine") == "1"
    qs = selectors.facility_list(user=request.user, q=q, type_code=type_code, state=state, mine=mine)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [(f, selectors.facility_state(f)) for f in page.object_list]
    own = [(d, selectors.this_period_done(d)) for d in selectors.my_directorships(user=request.user)[:20]]
    return render(
        request,
        "facilities/list.html",
        {
            "page": page,
            "rows": rows,
            "own": own,
            "q": q,
            "type": type_code or "",
            "state": state or "",
            "mine": mine,
            "types": selectors.facility_types(),
        },
    )


@login_required
def facility_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One facility: its directors and their rules, this period's progress, recent inspections and missed periods."""
    facility = selectors.facility_get(user=request.user, pk=pk)
    directors = selectors.facility_directors(facility, include_ended=True)
    progress = {d.pk: selectors.this_period_done(d) for d in directors if d.is_active}
    return render(
        request,
        "facilities/facility.html",
        {
            "facility": facility,
            "state": selectors.facility_state(facility),
            "directors": [(d, progress.get(d.pk)) for d in directors],
            "inspections": selectors.inspection_list(user=request.user, facility=facility)[:20],
            "missed": selectors.missed_list(user=request.user, facility=facility)[:10],
            "can_inspect": bool(selectors.inspectable_directors(user=request.user, facility=facility)),
            "checklist": facility.facility_type.checklist.filter(is_active=True),
        },
    )


def _item_results(request: HttpRequest, checklist: list[Any]) -> list[dict[str, Any]]:
    out = []
    for c in checklist:
        choice = request.POST.get(f"item_{c.code}", "")
        if choice not in ("pass", "fail"):
            continue  # left unmarked: the service names every item still missing, all at once
        out.append(
            {
                "code": c.code,
                "passed": choice == "pass",
                "note": request.POST.get(f"note_{c.code}", ""),
                "photos": request.FILES.getlist(f"photo_{c.code}"),
            }
        )
    return out


@login_required
def inspect(request: HttpRequest, pk: int) -> HttpResponse:
    """The phone checklist: a big pass/fail toggle per item, a note and a camera photo; failures become demands."""
    facility = selectors.facility_get(user=request.user, pk=pk)
    directors = selectors.inspectable_directors(user=request.user, facility=facility)
    if not directors:
        raise PermissionDenied(gettext_lazy("only the facility's directors may record inspections"), field="director")
    checklist = list(facility.facility_type.checklist.filter(is_active=True))
    context: dict[str, Any] = {
        "facility": facility,
        "directors": directors,
        "checklist": checklist,
        "values": {},
        "error": None,
        # Their own directorship first: entering someone else's check is the exception.
        "chosen_director": next((d.pk for d in directors if d.user_id == request.user.pk), directors[0].pk),
    }
    if request.method != "POST":
        return render(request, "facilities/inspect.html", context)
    director: FacilityDirector | None = None
    wanted = request.POST.get("director")
    if wanted:
        director = next((d for d in directors if str(d.pk) == wanted), None)
    elif len(directors) == 1:
        director = directors[0]
    try:
        if director is None:
            raise ValidationFailed(gettext_lazy("choose whose inspection this is"), field="director")
        inspection = services.inspection_record(
            facility=facility,
            actor=request.user,  # type: ignore[arg-type]
            director=director,
            results=_item_results(request, checklist),
            note=request.POST.get("note", ""),
            lat=request.POST.get("lat") or None,
            lng=request.POST.get("lng") or None,
            photos=request.FILES.getlist("photos"),
        )
    except WanggeError as error:
        context.update(
            error=error,
            values={k: v for k, v in request.POST.items() if k.startswith(("item_", "note"))},
            chosen_director=wanted,
        )
        return render(request, "facilities/inspect.html", context, status=400)
    failed = [i for i in inspection.items.all() if not i.passed]
    if failed:
        messages.warning(
            request, _("Inspection saved: %(n)s item(s) failed and were sent as demands.") % {"n": len(failed)}
        )
    else:
        messages.success(request, _("Inspection saved: everything passed."))
    return redirect("facilities:inspection", pk=inspection.pk)


@login_required
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = selectors.inspection_get(user=request.user, pk=pk)
    return render(
        request,
        "facilities/inspection.html",
        {
            "inspection": inspection,
            "items": selectors.inspection_items(inspection),
            "visit_photos": inspection.photos.filter(item__isnull=True),
        },
    )


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """An inspection photo for staff who may see the facility (never a public media URL)."""
    item = selectors.photo_get(user=request.user, pk=pk)
    return private_file_response(item.image, missing=gettext_lazy("photo file not found"))


RECORD_WINDOWS = (30, 90, 180, 365)


@login_required
def records(request: HttpRequest) -> HttpResponse:
    """Each director's record: inspections done vs required per complete period, on-time rate, failures, demands."""
    try:
        days = int(request.GET.get("days") or 90)
    except ValueError:
        days = 90
    days = days if days in RECORD_WINDOWS else 90
    level = request.GET.get("level") or None
    if level not in DirectorLevel.values:
        level = None
    until = clock.today_local()
    since = until - dt.timedelta(days=days)
    rows = selectors.director_records(user=request.user, since=since, until=until, level=level)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    totals: dict[str, Any] = {
        "required": sum(r.required for r in rows),
        "done": sum(r.done for r in rows),
        "periods": sum(len(r.periods) for r in rows),
        "met": sum(r.periods_met for r in rows),
        "failures": sum(r.failures for r in rows),
        "raised": sum(r.demands_raised for r in rows),
        "resolved": sum(r.demands_resolved for r in rows),
        "missed": sum(r.missed for r in rows),
    }
    totals["rate"] = round(100 * totals["met"] / totals["periods"]) if totals["periods"] else None
    return render(
        request,
        "facilities/records.html",
        {
            "page": page,
            "days": days,
            "windows": RECORD_WINDOWS,
            "level": level or "",
            "levels": DirectorLevel.choices,
            "since": since,
            "until": until,
            "totals": totals,
        },
    )
