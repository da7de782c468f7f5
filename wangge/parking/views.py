"""Parking pages: lots with live occupancy, a lot's day, the warden's phone page, and what-if."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from wangge.core import clock
from wangge.core.errors import PermissionDenied, ValidationFailed, WanggeError
from wangge.core.htmx import render_page_or_fragment
from wangge.parking import selectors, services
from wangge.parking.fees import yuan
from wangge.parking.forms import WardenForm, WhatIfForm
from wangge.parking.models import Source, Zone
from wangge.parking.whatif import default_elasticity, replay


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        raise ValidationFailed(_("invalid date '%(value)s'"), params={"value": value}, field="day") from None


@login_required
def lot_index(request: HttpRequest) -> HttpResponse:
    """Lots in scope with the cars parked now and today's turnover and revenue."""
    selectors.require_parking(user=request.user)
    zone = request.GET.get("zone") or ""
    if zone not in Zone.values:
        zone = ""
    lots = selectors.lots_with_live_figures(user=request.user, zone=zone or None)
    today = clock.today_local()
    month_ago = today - dt.timedelta(days=29)
    capacity = sum(lot.capacity for lot in lots)
    begun = sum(lot.today_sessions for lot in lots)  # type: ignore[attr-defined]
    totals = {
        "capacity": capacity,
        "occupied": sum(lot.occupied for lot in lots),  # type: ignore[attr-defined]
        "sessions": begun,
        "revenue": yuan(sum(lot.today_revenue_fen for lot in lots)),  # type: ignore[attr-defined]
        "turnover": selectors.half_up(begun / capacity, 2) if capacity else 0,
    }
    return render_page_or_fragment(
        request,
        "parking/lots.html",
        "parking/partials/_lot_table.html",
        {
            "lots": lots,
            "zone": zone,
            "zones": Zone.choices,
            "totals": totals,
            "zone_figures": selectors.measures_by_zone(user=request.user, start=month_ago, end=today),
            "month_ago": month_ago,
            "today": today,
            "can_record": any(selectors.can_record(user=request.user, lot=lot) for lot in lots),
        },
    )


@login_required
def lot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One lot: hour-by-hour occupancy of a day, 30 days of measures, its stays and anomalies."""
    lot = selectors.lot_get(user=request.user, pk=pk)
    today = clock.today_local()
    day = _day(request.GET.get("day"), today)
    hours = selectors.hourly_occupancy(user=request.user, lot=lot, day=day)
    start = today - dt.timedelta(days=29)
    figures = selectors.measures_by_lot(user=request.user, start=start, end=today, lot=lot)
    daily = selectors.measures_by_day(user=request.user, start=start, end=today, lot=lot)
    full = selectors.shows_full_plates(user=request.user, lot=lot)
    state = request.GET.get("state") or ""
    sessions = selectors.session_list(user=request.user, lot=lot, state=state or None)
    page = Paginator(sessions, 30).get_page(request.GET.get("page"))
    rows = [
        {
            "s": s,
            "plate": selectors.plate_for(user=request.user, lot=lot, plate=s.plate, full=full),
        }
        for s in page
    ]
    chart = {
        "hours": [f"{h['hour']:02d}:00" for h in hours],
        "avg": [h["avg_parked"] for h in hours],
        "pct": [h["pct"] for h in hours],
        "entries": [h["entries"] for h in hours],
        "capacity": lot.capacity,
        "days": [d.label for d in daily],
        "turnover": [d.turnover for d in daily],
        "revenue": [round(d.revenue_fen / 100, 2) for d in daily],
    }
    return render_page_or_fragment(
        request,
        "parking/lot_detail.html",
        "parking/partials/_session_table.html",
        {
            "lot": lot,
            "day": day,
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "hours": hours,
            "chart": chart,
            "figures": figures[0] if figures else None,
            "occupied": selectors.occupancy_now(lot=lot),
            "page": page,
            "rows": rows,
            "state": state,
            "full_plates": full,
            "tariff_lines": lot.tariff.rules().describe(),
            "anomalies": selectors.anomaly_list(user=request.user, lot=lot)[:10],
            "can_record": selectors.can_record(user=request.user, lot=lot),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def warden(request: HttpRequest) -> HttpResponse:
    """The warden's phone page: pick the lot, type the plate, tap 入场 or 出场; the fee is shown with its reasons."""
    selectors.require_parking(user=request.user)
    lots = selectors.lot_list(user=request.user)
    recordable = [lot.pk for lot in lots if selectors.can_record(user=request.user, lot=lot)]
    if not recordable:
        raise PermissionDenied(_("you have no lot to record entries and exits in"))
    lots = lots.filter(pk__in=recordable)
    result: dict[str, Any] | None = None
    error: WanggeError | None = None
    status = 200
    if request.method == "POST":
        form = WardenForm(request.POST, lots=lots)
        action = request.POST.get("action")
        if form.is_valid() and action in ("entry", "exit"):
            lot = selectors.lot_for_recording(user=request.user, pk=form.cleaned_data["lot"].pk)
            kwargs = {
                "lot": lot,
                "plate": form.cleaned_data["plate"],
                "at": clock.now(),
                "source": Source.WARDEN,
                "event_id": form.cleaned_data["event_id"],
                "actor": request.user,
            }
            try:
                if action == "entry":
                    entry = services.parking_entry(**kwargs)
                    result = {"kind": "entry", "session": entry.session, "occupancy": entry.occupancy, "lot": lot}
                else:
                    done = services.parking_exit(**kwargs)
                    if done.anomaly is not None:
                        error = done.error
                        status = 409
                    else:
                        result = {"kind": "exit", "session": done.session, "lot": lot}
            except WanggeError as exc:
                error, status = exc, exc.status
            # A fresh form (and event id) for the next car; a double tap resent the old id.
            keep = {"lot": lot.pk}
            form = WardenForm(initial=keep, lots=lots)
        elif form.is_valid():
            error, status = ValidationFailed(_("choose entry or exit"), field="action"), 400
    else:
        initial = {"lot": request.GET.get("lot")} if request.GET.get("lot") else {}
        form = WardenForm(initial=initial, lots=lots)
    recent = selectors.session_list(user=request.user).filter(lot__in=lots, recorded_by=request.user)[:5]
    return render(
        request,
        "parking/warden.html",
        {"form": form, "result": result, "error": error, "recent": recent},
        status=status,
    )


@login_required
def whatif(request: HttpRequest) -> HttpResponse:
    """Replay a period's stays of a lot or zone under a proposed tariff, beside the current one."""
    selectors.require_parking(user=request.user)
    lots = selectors.lot_list(user=request.user)
    tariffs = selectors.tariff_list(user=request.user)
    today = clock.today_local()
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - dt.timedelta(days=1)
    defaults = {
        "start": last_month_end.replace(day=1),
        "end": last_month_end,
        "elasticity": default_elasticity(),
        "free_minutes": 15,
        "steps_text": "0-60 2 30\n60-180 3 60\n180- 5 60",
        "day_cap_yuan": "20",
        "peak_multiplier_pct": 100,
        "peak_days": "workday",
    }
    outcome = None
    if "start" in request.GET:
        form = WhatIfForm(request.GET, lots=lots, tariffs=tariffs)
        if form.is_valid():
            proposed = form.proposed()
            if proposed is not None:
                chosen = lots
                if form.cleaned_data.get("lot"):
                    chosen = lots.filter(pk=form.cleaned_data["lot"].pk)
                elif form.cleaned_data.get("zone"):
                    chosen = lots.filter(zone=form.cleaned_data["zone"])
                rules, label = proposed
                outcome = replay(
                    lots=chosen,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    proposed=rules,
                    proposed_label=label,
                    elasticity=form.cleaned_data["elasticity"],
                )
    else:
        form = WhatIfForm(initial=defaults, lots=lots, tariffs=tariffs)
    chart = None
    if outcome is not None:
        chart = {
            "bands": [b["label"] for b in outcome.current.bands],
            "current": [b["count"] for b in outcome.current.bands],
            "proposed": [b["count"] for b in outcome.proposed.bands],
        }
    return render(request, "parking/whatif.html", {"form": form, "outcome": outcome, "chart": chart})
