"""Pages of the dashboards app: everyone's landing page (core:home), the service-centre console,
the command dashboard (desk and 大屏), the ranking, reports and exports, and the public open-government figures.

Views read through `selectors` (scoped by the acting user) and write only through services: the
dashboards' own (exports, the log of unmasked data, the batch dispatch) and the demand services
(a live reply is a public `demand_comment`). Moves on one demand stay on the demand's own page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound, ValidationFailed, WanggeError
from wangge.core.files import private_file_response
from wangge.core.htmx import render_page_or_fragment
from wangge.dashboards import exports, facts, landing, selectors, services
from wangge.dashboards.definitions import BY_KEY, HIGHER_IS_BETTER, MEASURES
from wangge.dashboards.measures import Tally
from wangge.dashboards.models import ExportKind
from wangge.demands import selectors as demand_selectors
from wangge.demands import services as demand_services
from wangge.demands.models import WAITING_STATES, Channel, DemandComment, State, Urgency, Visibility
from wangge.holidays.selectors import coverage_gap
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Level

MOVE_ORDER = ["accept", "resolve", "escalate", "dispatch", "return_", "reassign", "reject", "merge"]
# The landing page's counts, in the order a person reads them (what to take, what is late, what falls due).
QUEUE_LABELS = {
    "new": gettext_lazy("New: waiting to be accepted"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due within %(hours)s hours"),
    "urgent": gettext_lazy("Urgent"),
    "escalated": gettext_lazy("Escalated to me"),
    "open": gettext_lazy("All I hold"),
}
HOT_COUNTS = {"overdue", "urgent", "escalated"}  # shown in red when not zero


def _category_groups() -> list[dict[str, Any]]:
    """Active categories for a select, grouped by first level (one query with its children)."""
    groups = []
    for parent in demand_selectors.category_tree():
        children = getattr(parent, "children_active", [])  # prefetched by category_tree()
        options = [(c.code, c.name) for c in children] + [(parent.code, f"{parent.name}（其他）")]
        groups.append({"name": parent.name, "options": options})
    return groups


# --- home -------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """core:home. Each user lands on their own areas (or departments), never on anyone else's."""
    if getattr(request.user, "role", "") == Role.GRID_LEADER and not request.user.is_superuser:
        # A grid leader's home is the phone workbench (visits app): demands to take, households to visit.
        return redirect("visits:workbench")
    scope = scope_for(request.user)
    roots = list(registry_selectors.area_roots(user=request.user))
    departments = list(registry_selectors.department_list(user=request.user)) if scope.department_ids else []
    queue = landing.landing(user=request.user)
    console_url = reverse("dashboards:console")
    counts = [
        {
            "key": c.key,
            "label": str(QUEUE_LABELS[c.key]) % {"hours": landing.DUE_SOON_HOURS},
            "count": c.count,
            "hot": bool(c.count) and c.key in HOT_COUNTS,
            "url": f"{console_url}?{urlencode(c.params)}",
        }
        for c in queue.counts
    ]
    context = {
        "roots": roots,
        "departments": departments,
        "scope": scope,
        "queue": queue,
        "counts": counts,
        "waiting_states": WAITING_STATES,
    }
    return render(request, "dashboards/home.html", context)


# --- console ----------------------------------------------------------------------------------


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("size", "")
    default = int(getattr(settings, "DASHBOARD_CONSOLE_PAGE_SIZE", 30))
    return max(5, min(200, int(raw))) if raw.isdigit() else default


def _console_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    raw = request.GET.copy()
    raw.setdefault("view", "queue")
    filters = demand_selectors.DemandFilter.from_params(raw, user=user)
    qs = selectors.console_list(user=user, filters=filters, view=selectors.console_view(raw.get("view")))
    page = Paginator(qs, _page_size(request)).get_page(request.GET.get("page"))
    # Rows the user may dispatch now, by the one rule of the demand services (auditors: none).
    dispatchable = {d.pk for d in page if "dispatch" in demand_services.demand_can(demand=d, user=user)}
    query = raw.copy()
    query.pop("page", None)
    return {
        "page": page,
        "raw": raw,
        "query": query.urlencode(),
        "filters": filters,
        "states": State.choices,
        "urgencies": Urgency.choices,
        "channels": Channel.choices,
        "categories": _category_groups(),
        "areas": list(selectors.console_areas(user=user)),
        "departments": selectors.console_departments(user=user) if dispatchable else [],
        "dispatchable": dispatchable,
        "searched_phone": bool(filters.phone),
        **extra,
    }


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The queue at my level and below, filters, search (code, exact phone, words), batch dispatch."""
    if request.method == "POST":
        return _batch_dispatch(request)
    context = _console_context(request)
    return render_page_or_fragment(
        request, "dashboards/console.html", "dashboards/partials/_console_table.html", context
    )


def _batch_dispatch(request: HttpRequest) -> HttpResponse:
    items: list[tuple[int, int | None]] = []
    for value in request.POST.getlist("pick"):
        pk, _sep, version = value.partition(":")
        if pk.isdigit():
            items.append((int(pk), int(version) if version.isdigit() else None))
    dept_id = request.POST.get("department", "")
    department = None
    if dept_id.isdigit():
        department = next((d for d in selectors.console_departments(user=request.user) if d.pk == int(dept_id)), None)
    status = 200
    try:
        results = services.demands_batch_dispatch(
            actor=request.user, items=items, department=department, note=request.POST.get("note", "")[:1000]
        )
    except ValidationFailed as exc:
        results, status = [], 400
        messages.error(request, f"{exc.zh} / {exc.en}")
    ok = sum(1 for r in results if r.ok)
    if results:
        messages.info(request, _("%(ok)s dispatched, %(bad)s not dispatched.") % {"ok": ok, "bad": len(results) - ok})
    context = _console_context(request, batch_results=results)
    return render(request, "dashboards/console.html", context, status=status)


def _comments(demand: Any) -> list[DemandComment]:
    return list(DemandComment.objects.filter(demand=demand).select_related("author").order_by("created_at", "id"))


@login_required
def console_demand(request: HttpRequest, pk: int) -> HttpResponse:
    """One demand for the service centre: facts, full timeline, my moves, and the live reply."""
    user = request.user
    demand = demand_selectors.demand_get(user=user, pk=pk)
    can = demand_services.demand_can(demand=demand, user=user)
    # The holder calls the resident back; the service logs each unmasked view.
    reporter_phone = demand_services.demand_reporter_phone_reveal(demand=demand, user=user, can=can, where="工作台")
    context = {
        "demand": demand,
        "reporter_phone": reporter_phone,
        "timeline": demand_selectors.demand_timeline(demand=demand, public=False),
        "moves": [m for m in MOVE_ORDER if m in can],
        "may_reply": "comment" in can,
        "comments": _comments(demand),
    }
    return render(request, "dashboards/console_demand.html", context)


@login_required
@require_GET
def console_comments(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx, polled every few seconds: the demand's comments, the resident's replies as they come."""
    demand = demand_selectors.demand_get(user=request.user, pk=pk)
    return render(request, "dashboards/partials/_comments.html", {"demand": demand, "comments": _comments(demand)})


@login_required
def console_reply(request: HttpRequest, pk: int) -> HttpResponse:
    """The one-stop live reply: a public comment the resident reads on the tracking page."""
    # Scope first: a demand outside the user's scope is not found, whatever the method.
    demand = demand_selectors.demand_get(user=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    error = ""
    try:
        demand_services.demand_comment(
            demand=demand,
            body=request.POST.get("body", ""),
            visibility=Visibility.PUBLIC,
            actor=cast(User, request.user),
        )
    except WanggeError as exc:
        error = f"{exc.zh} / {exc.en}"
    if getattr(request, "htmx", False):
        context = {"demand": demand, "comments": _comments(demand), "error": error}
        return render(request, "dashboards/partials/_comments.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("dashboards:console_demand", pk=pk)


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
        "tile_url": getattr(settings, "MAP_TILE_URL", ""),
        "map_url": reverse("dashboards:map_data") + (f"?area={subject.area.pk}" if subject.area else ""),
        "query": query.urlencode(),
        "raw": get,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The command dashboard at a desk: measures, trends, categories, climb, map, drill-down."""
    context = _dashboard_context(request) | {"calendar_gap": coverage_gap(clock.today_local())}
    return render(request, "dashboards/dashboard.html", context)


@login_required
def screen(request: HttpRequest) -> HttpResponse:
    """The same figures for the big screen (大屏) of the command centre: dark, large, refreshing itself."""
    return render(request, "dashboards/screen.html", _dashboard_context(request))


@login_required
@require_GET
def map_data(request: HttpRequest) -> JsonResponse:
    """GeoJSON of the areas under the subject, each with its open and overdue demands now."""
    subject = selectors.subject_for(user=request.user, area=request.GET.get("area"))
    data = selectors.map_features(subject=subject)
    for feature in data["features"]:
        feature["properties"]["url"] = reverse("dashboards:dashboard") + f"?area={feature['properties']['id']}"
    return JsonResponse(data)


@login_required
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
def report(request: HttpRequest) -> HttpResponse:
    """The weekly or monthly report of an area as a printable page."""
    context = _report(request)
    context["query"] = request.GET.urlencode()
    return render(request, "dashboards/report.html", context)


@login_required
def report_xlsx(request: HttpRequest) -> HttpResponse:
    """The same report as an Excel workbook: measures, categories, ranking."""
    context = _report(request)
    data = exports.report_workbook(context)
    period = context["period"]
    name = f"report-{context['kind']}-{period.start:%Y%m%d}.xlsx"
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- exports ---------------------------------------------------------------------------------------


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    """My exports with their progress; POST queues a new one with the console's current filters."""
    status = 200
    if request.method == "POST":
        post = request.POST
        filters = {k: post.get(k, "") for k in services.FILTER_KEYS}
        filters["view"] = post.get("view", "")
        try:
            job = services.export_job_create(
                user=request.user,
                kind=post.get("kind", ExportKind.DEMANDS),
                filters=filters,
                unmasked=post.get("unmasked") == "1",
                reason=post.get("reason", ""),
            )
        except WanggeError as exc:
            messages.error(request, f"{exc.zh} / {exc.en}")
            status = exc.status
        else:
            messages.success(request, _("The export was queued; it runs in the background."))
            return redirect("dashboards:export", pk=job.pk)
    context = {
        "jobs": list(selectors.export_jobs(user=request.user)[:50]),
        "may_unmask": services.may_unmask_exports(request.user),
        "has_visits": facts.visit_models() is not None,
    }
    return render(request, "dashboards/exports.html", context, status=status)


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One export: a progress bar polled by htmx until it is done, then the download link."""
    job = selectors.export_get(user=request.user, pk=pk)
    return render_page_or_fragment(
        request, "dashboards/export.html", "dashboards/partials/_export_progress.html", {"job": job}
    )


@login_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file of my finished export (never a public media URL)."""
    job = selectors.export_get(user=request.user, pk=pk)
    if job.state != "done":
        raise NotFound(gettext_lazy("the export is not finished"))
    return private_file_response(
        services.export_path(job),
        as_attachment=True,
        cache_control="no-store, private",
        missing=gettext_lazy("export file not found"),
    )


# --- public -----------------------------------------------------------------------------------------


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """政务公开: city-wide and per-town figures of the last six months; counts only, no personal data."""
    return render(request, "dashboards/public.html", selectors.public_months(6))
