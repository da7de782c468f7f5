"""The command dashboard (desk and 大屏), its map data, the ranking, the weekly or monthly report and the
public open-government figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from wangge.core import clock
from wangge.core.replica import use_replica
from wangge.dashboards import exports, selectors
from wangge.dashboards.definitions import BY_KEY, HIGHER_IS_BETTER, MEASURES
from wangge.dashboards.measures import Tally
from wangge.demands import selectors as demand_selectors
from wangge.holidays.selectors import coverage_gap
from wangge.registry.boundaries.basemap import tile_url_template
from wangge.registry.models import Level

# --- dashboard ----------------------------------------------------------------------------------


def _delta(name: str, now: Any, before: Any) -> dict[str, Any]:
    if now is None or before is None:
        return {"diff": None, "better": None}
    diff = now - before
    if abs(diff) < 1e-9:
        return {"diff": 0.0, "better": None}
    better = (diff > 0) == HIGHER_IS_BETTER.get(name, True)
    return {"diff": diff, "better": better}


def _cards(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    """One card per measure of `definitions.MEASURES`, each with its definition for the `?` tooltip."""
    cards = []
    for m in (m for m in MEASURES if m.card):
        card: dict[str, Any] = {"name": m.key, "kind": m.kind, "label": m.name, "formula": m.formula, "which": m.which}
        if m.kind == "rate":
            value, before = current[m.key], previous[m.key]
            card |= {"numerator": current[m.numerator], "denominator": current[m.denominator]}
            card |= _delta(m.key, value, before)
        elif m.kind == "count":
            value, before = current[m.numerator], previous[m.numerator]
        else:  # a time: the median, and the 90th percentile beside it
            prefix = m.numerator.removesuffix("_hist")
            value, before = current[f"{prefix}_median"], current[f"{prefix}_p90"]
        card |= {"value": value, "previous": before}
        if m.key == "satisfaction_rate":  # the rated share (参评率) beside it: how many answered at all
            share = BY_KEY["rated_share"]
            card["beside"] = {"label": share.name, "value": current[share.key], "formula": share.formula}
        cards.append(card)
    return cards


def _chart_data(
    series: list[tuple[dt.date, Tally]],
    weeks: list[tuple[dt.date, Tally]],
    cats: list[dict[str, Any]],
    climb: list[dict[str, Any]],
) -> dict[str, Any]:
    def rate(t: Tally, name: str) -> float | None:
        value = t.measures()[name]
        return None if value is None else round(value * 100, 1)

    return {
        "days": [d.isoformat() for d, _t in series],
        "received": [t.counts["received"] for _d, t in series],
        "resolved": [t.counts["resolved"] for _d, t in series],
        "weeks": [d.isoformat() for d, _t in weeks],
        "week_received": [t.counts["received"] for _d, t in weeks],
        "week_response": [rate(t, "response_rate") for _d, t in weeks],
        "week_satisfaction": [rate(t, "satisfaction_rate") for _d, t in weeks],
        "week_ontime": [rate(t, "ontime_rate") for _d, t in weeks],
        "categories": [{"name": c["name"], "value": c["received"]} for c in cats[:12]],
        "climb": [{"level": str(c["level"]), "count": c["count"]} for c in climb],
    }


def _dashboard_context(request: HttpRequest) -> dict[str, Any]:
    # One reading: today's demands are read and counted once for every figure of the page.
    with selectors.one_reading():
        return _dashboard_figures(request)


def _dashboard_figures(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    get = request.GET
    subject = selectors.subject_for(user=user, area=get.get("area"), department=get.get("department"))
    period = selectors.period_from(get.get("period"), get.get("start"), get.get("end"))
    previous = period.previous()
    current = selectors.figures(subject=subject, period=period)
    before = selectors.figures(subject=subject, period=previous)
    cm, pm = current.measures(), before.measures()
    today = selectors.figures(subject=subject, period=selectors.period_from("today")).measures()
    series = selectors.daily(subject=subject, period=period)
    weeks = selectors.weekly(series)
    cats = selectors.categories(subject=subject, period=period)
    climb = selectors.climb(current)
    kids = selectors.children(subject=subject, period=period)
    position = None
    if subject.area is not None and subject.area.level in (Level.TOWN, Level.VILLAGE):
        month = selectors.month_period(None)
        board = selectors.ranking(user=user, level=subject.area.level, period=month)
        position = next((r for r in board["rows"] if r["area"].pk == subject.area.pk), None)
        if position is not None:
            position = {**position, "ranked": board["ranked"], "month": month}
    grid_demands = []
    if subject.area is not None and subject.area.level == Level.GRID:
        grid_demands = list(
            demand_selectors.demand_list(
                user=user,
                filters=demand_selectors.DemandFilter(area=subject.area, date_from=period.start, date_to=period.end),
            ).select_related("category__parent")[:50]
        )
    query = get.copy()
    return {
        "subject": subject,
        "period": period,
        "previous": previous,
        "current": cm,
        "before": pm,
        "today": today,
        "cards": _cards(cm, pm),
        "categories": cats,
        "channels": selectors.channels(subject=subject, period=period),
        "climb": climb,
        "children": kids,
        "position": position,
        "grid_demands": grid_demands,
        "crumbs": selectors.breadcrumb(user=user, subject=subject),
        "departments": selectors.departments_for(user=user),
        "chart": _chart_data(series, weeks, cats, climb),
        "state": selectors.rollup_state(),
        "tile_url": tile_url_template(),
        "base_url": reverse("registry:base_layer"),
        "map_url": reverse("dashboards:map_data") + (f"?area={subject.area.pk}" if subject.area else ""),
        "query": query.urlencode(),
        "raw": get,
    }


@login_required
@use_replica()
def dashboard(request: HttpRequest) -> HttpResponse:
    """The command dashboard at a desk: measures, trends, categories, climb, map, drill-down."""
    context = _dashboard_context(request) | {"calendar_gap": coverage_gap(clock.today_local())}
    return render(request, "dashboards/dashboard.html", context)


@login_required
@use_replica()
def screen(request: HttpRequest) -> HttpResponse:
    """The same figures for the big screen (大屏) of the command centre: dark, large, refreshing itself."""
    return render(request, "dashboards/screen.html", _dashboard_context(request))


@login_required
@require_GET
@use_replica()
def map_data(request: HttpRequest) -> JsonResponse:
    """GeoJSON of the areas under the subject, each with its open and overdue demands now."""
    subject = selectors.subject_for(user=request.user, area=request.GET.get("area"))
    data = selectors.map_features(subject=subject)
    for feature in data["features"]:
        feature["properties"]["url"] = reverse("dashboards:dashboard") + f"?area={feature['properties']['id']}"
    return JsonResponse(data)


@login_required
@use_replica()
def ranking(request: HttpRequest) -> HttpResponse:
    """The monthly ranking (红黑榜) of towns or villages; each role sees the places its scope covers."""
    period = selectors.month_period(request.GET.get("month"))
    level = request.GET.get("level") or Level.TOWN
    board = selectors.ranking(user=request.user, level=level, period=period)
    months = []
    first = selectors.month_period(None).start
    for _step in range(12):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return render(request, "dashboards/ranking.html", {"board": board, "period": period, "months": months})


# --- reports --------------------------------------------------------------------------------------


def _report(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    get = request.GET
    subject = selectors.subject_for(user=user, area=get.get("area"), department=get.get("department"))
    kind = get.get("kind") if get.get("kind") in ("weekly", "monthly") else "monthly"
    try:
        day = dt.date.fromisoformat(get.get("date") or "")
    except ValueError:
        from wangge.core import clock

        day = clock.today_local()
    if kind == "weekly":
        start = day - dt.timedelta(days=day.weekday())
        period = selectors.Period(start, start + dt.timedelta(days=6), "week")
    else:
        period = selectors.month_period(day.strftime("%Y-%m"))
        nxt = (period.start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        period = selectors.Period(period.start, nxt - dt.timedelta(days=1), "month")
    previous = period.previous()
    current = selectors.figures(subject=subject, period=period).measures()
    before = selectors.figures(subject=subject, period=previous).measures()
    kids = selectors.children(subject=subject, period=period)
    from wangge.dashboards.measures import ranking_score

    for k in kids:
        k["score"] = ranking_score(k) if k["received"] else None
    ranked = sorted((k for k in kids if k["score"] is not None), key=lambda k: (-k["score"], -k["received"]))
    for i, k in enumerate(ranked, 1):
        k["position"] = i
    title = f"{subject.label}{'周报' if kind == 'weekly' else '月报'}"
    return {
        "subject": subject,
        "kind": kind,
        "title": title,
        "period": period,
        "previous_period": previous,
        "current": current,
        "previous": before,
        "rows": [
            {"label": label, "kind": k, "now": current.get(name), "before": before.get(name)}
            for name, label, k in exports.MEASURE_ROWS
        ],
        "categories": selectors.categories(subject=subject, period=period),
        "ranking": ranked + [k for k in kids if k["score"] is None],
        "date": day,
    }


@login_required
@use_replica()
def report(request: HttpRequest) -> HttpResponse:
    """The weekly or monthly report of an area as a printable page."""
    context = _report(request)
    context["query"] = request.GET.urlencode()
    return render(request, "dashboards/report.html", context)


@login_required
@use_replica()
def report_xlsx(request: HttpRequest) -> HttpResponse:
    """The same report as an Excel workbook: measures, categories, ranking."""
    context = _report(request)
    data = exports.report_workbook(context)
    period = context["period"]
    name = f"report-{context['kind']}-{period.start:%Y%m%d}.xlsx"
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- public -----------------------------------------------------------------------------------------


@require_GET
@use_replica()
def public(request: HttpRequest) -> HttpResponse:
    """政务公开: city-wide and per-town figures of the last six months; counts only, no personal data."""
    return render(request, "dashboards/public.html", selectors.public_months(6))
