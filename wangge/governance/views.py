"""Pages of governance topics: the staff console (list, make one from a hot issue, a topic and its actions,
repeatedly failing facilities) and the public list and page (no login, no personal data).

Every read goes through selectors (scoped), every write through services; a refused write is shown on
the page with the service's bilingual message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.core.replica import use_replica
from wangge.demands.models import Demand
from wangge.demands.permissions import visible_q
from wangge.governance import selectors, services
from wangge.governance.models import TopicState
from wangge.registry.models import Area, Department, Level

ACTIONS = ("activate", "progress", "close", "project", "proactive", "link", "unlink")


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(gettext_lazy("give a date (YYYY-MM-DD)"), field=field) from None


def _int(value: str, field: str) -> int:
    try:
        return int((value or "").replace(",", "").strip())
    except ValueError:
        raise ValidationFailed(gettext_lazy("give a whole number"), field=field) from None


def _areas_for(user: Any) -> list[Area]:
    """The city and towns a user may make a topic for (their own areas at those levels, or all for the city)."""
    scope = scope_for(user)
    qs = Area.objects.filter(level__in=[Level.CITY, Level.TOWN]).order_by("path")
    if not scope.is_global:
        qs = qs.filter(scope.area_q("path"))
    return list(qs[:200])


def _departments_for(user: Any) -> list[Department]:
    scope = scope_for(user)
    qs = Department.objects.order_by("code")
    if not scope.is_global and scope.area_paths:
        cities = {p.split("/")[0] + "/" for p in scope.area_paths}
        qs = qs.filter(area_path__in=sorted(cities))
    elif not scope.is_global:
        qs = qs.filter(pk__in=list(scope.department_ids))
    return list(qs[:200])


@login_required
def topic_index(request: HttpRequest) -> HttpResponse:
    """The topics the user may see, and the facilities in scope that keep failing inspection."""
    state = request.GET.get("state", "")
    topics = list(selectors.topic_list(user=request.user, state=state if state in TopicState.values else None)[:200])
    failing = selectors.failing_facilities(scope=scope_for(request.user))
    return render(
        request,
        "governance/list.html",
        {
            "topics": topics,
            "state": state,
            "states": TopicState.choices,
            "failing": failing,
            "may_act": not scope_for(request.user).read_only,
            "window": selectors.failure_window(),
        },
    )


@login_required
def topic_new(request: HttpRequest) -> HttpResponse:
    """Make a topic from a hot issue: its demands and key words come in the query string from the hot-issue list."""
    src = request.POST if request.method == "POST" else request.GET
    demand_ids = [int(i) for i in src.getlist("demand") if i.isdigit()][:2000]
    values: dict[str, Any] = {
        "title": src.get("title", ""),
        "summary": src.get("summary", ""),
        "plan": src.get("plan", ""),
        "due_on": src.get("due_on", (clock.today_local() + dt.timedelta(days=30)).isoformat()),
        "area": src.get("area", ""),
        "department": src.get("department", ""),
        "keywords": src.getlist("keyword") or [w for w in src.get("keywords", "").split() if w],
    }
    areas = _areas_for(request.user)
    departments = _departments_for(request.user)
    if not areas and not departments:
        raise PermissionDenied(
            gettext_lazy("only city or town staff of the area, or the lead department, may make a topic")
        )
    demands = list(Demand.objects.filter(visible_q(request.user), pk__in=demand_ids).only("pk", "code", "title")[:500])
    error: WanggeError | None = None
    if request.method == "POST":
        try:
            area = next((a for a in areas if str(a.pk) == values["area"]), None)
            if area is None:
                area = Area.objects.filter(pk=_int(values["area"], "area"), level__in=[Level.CITY, Level.TOWN]).first()
            department = Department.objects.filter(pk=_int(values["department"], "department")).first()
            if area is None:
                raise ValidationFailed(gettext_lazy("choose the city or a town"), field="area")
            if department is None:
                raise ValidationFailed(gettext_lazy("choose the lead department"), field="department")
            topic = services.topic_create_from_hot_issue(
                user=request.user,
                title=values["title"],
                summary=values["summary"],
                plan=values["plan"],
                area=area,
                department=department,
                due_on=_date(values["due_on"], "due_on"),
                demand_ids=[d.pk for d in demands],
                keywords=values["keywords"],
            )
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Topic made; activate it to publish it and match new demands."))
            return redirect("governance:detail", pk=topic.pk)
    return render(
        request,
        "governance/new.html",
        {"values": values, "areas": areas, "departments": departments, "demands": demands, "error": error},
        status=error.status if error else 200,
    )


def _detail_context(request: HttpRequest, topic: Any) -> dict[str, Any]:
    return {
        "topic": topic,
        "reach": selectors.topic_reach(topic),
        "links": selectors.topic_links(user=request.user, topic=topic),
        "progress": selectors.topic_progress(topic=topic),
        "proactive": selectors.topic_proactive(user=request.user, topic=topic),
        "grids": selectors.topic_grids(topic),
        "can_manage": selectors.can_manage(request.user, topic),
        "today": clock.today_local().isoformat(),
        "domains": _domains(),
    }


def _domains() -> list[tuple[str, str]]:
    from wangge.projects.models import Domain

    return [(v, str(label)) for v, label in Domain.choices]


@login_required
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = selectors.topic_get(user=request.user, pk=pk)
    return render(request, "governance/detail.html", _detail_context(request, topic))


def _act(request: HttpRequest, topic: Any, action: str) -> str:
    post = request.POST
    user = request.user
    if action == "activate":
        services.topic_update(user=user, topic=topic, plan=post.get("plan") or None, activate=True)
        return _("The topic is active: it is public and new demands are matched to it.")
    if action == "progress":
        services.topic_progress_add(
            user=user,
            topic=topic,
            note=post.get("note", ""),
            on=_date(post.get("on", ""), "on") if post.get("on") else None,
            is_public=post.get("is_public") == "on",
        )
        return _("Progress added.")
    if action == "close":
        services.topic_close(user=user, topic=topic, note=post.get("note", ""))
        return _("The topic is closed.")
    if action == "project":
        services.topic_to_project(
            user=user,
            topic=topic,
            code=post.get("code", ""),
            domain=post.get("domain", ""),
            target=_int(post.get("target", ""), "target"),
            unit=post.get("unit", ""),
        )
        return _("A livelihood project was made from the topic.")
    if action == "proactive":
        grid_ids = [int(i) for i in post.getlist("grid") if i.isdigit()]
        grids = None
        if grid_ids:
            grids = [g for g in selectors.topic_grids(topic) if g.pk in grid_ids] or list(
                Area.objects.filter(pk__in=grid_ids, level=Level.GRID)
            )
        opened = services.topic_open_proactive_tasks(user=user, topic=topic, grids=grids, note=post.get("note", ""))
        return _("Proactive tasks opened: %(n)s (grids that had one already: %(m)s).") % {
            "n": len(opened.tasks),
            "m": opened.already,
        }
    code = (post.get("code") or "").strip()
    demand = Demand.objects.filter(visible_q(user), code=code).first()
    if demand is None:
        raise ValidationFailed(gettext_lazy("no demand with this code"), field="code")
    if action == "link":
        services.topic_link_demand(user=user, topic=topic, demand=demand)
        return _("Demand linked.")
    services.topic_unlink_demand(user=user, topic=topic, demand=demand)
    return _("Demand unlinked.")


@login_required
def topic_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on a topic (POST); the topic is looked up in the user's scope first (404 outside it)."""
    topic = selectors.topic_get(user=request.user, pk=pk)
    if action not in ACTIONS:
        raise NotFound(gettext_lazy("unknown action"))
    if request.method != "POST":
        return redirect("governance:detail", pk=topic.pk)
    try:
        done = _act(request, topic, action)
    except WanggeError as exc:
        context = _detail_context(request, selectors.topic_get(user=request.user, pk=pk))
        context.update(error=exc, action=action)
        return render(request, "governance/detail.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("governance:detail", pk=topic.pk)


@login_required
def facility_proactive(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a proactive task for a facility in scope that keeps failing (POST from the console)."""
    from wangge.facilities.selectors import facility_get

    facility = facility_get(user=request.user, pk=pk)
    if request.method != "POST":
        return redirect("governance:list")
    try:
        task = services.facility_open_proactive_task(user=request.user, facility=facility)
    except WanggeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Proactive task %(code)s opened.") % {"code": task.demand.code})
    return redirect("governance:list")


@use_replica()
def public_index(request: HttpRequest) -> HttpResponse:
    """No login: active and finished topics, what was planned and done; counts only, no personal data."""
    return render(request, "governance/public.html", {"rows": selectors.public_topics()})


@use_replica()
def public_topic(request: HttpRequest, pk: int) -> HttpResponse:
    """No login: one topic with its public progress notes (the link its reporters get by SMS)."""
    return render(request, "governance/public_topic.html", {"row": selectors.public_topic_get(pk=pk)})
