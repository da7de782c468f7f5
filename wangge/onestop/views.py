"""Pages of one-stop services: the window clerk on a desk, the village point on a phone, the departments.

Each page reads through selectors (scoped) and writes through services; a refused move is shown on
the page with the service's bilingual message, naming the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.core.errors import NotFound, WanggeError
from wangge.onestop import selectors, services
from wangge.onestop.facts import FACTS
from wangge.onestop.models import AppState, IdentityMethod, TaskState


def _errors(error: WanggeError) -> dict[str, list[str]]:
    """Field → messages, for showing each problem next to its input."""
    out: dict[str, list[str]] = {}
    for p in error.problems or []:
        out.setdefault(p.field or "", []).append(f"{p.zh} / {p.en}")
    if not out:
        out[error.field or ""] = [f"{error.zh} / {error.en}"]
    return out


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """Bundles with their computed 6310 figures and what each asks, for the window clerk."""
    return render(request, "onestop/catalogue.html", {"bundles": selectors.bundle_list()})


@login_required
def item_index(request: HttpRequest) -> HttpResponse:
    """The service item catalogue, with the items that village service points may take."""
    village = request.GET.get("village")
    q = (request.GET.get("q") or "").strip()
    items = selectors.item_list(village_ok=True if village == "1" else None, q=q)
    return render(
        request,
        "onestop/items.html",
        {
            "items": items,
            "village": village == "1",
            "q": q,
            "village_count": selectors.item_list(village_ok=True).count(),
        },
    )


def _form_context(request: HttpRequest, view: selectors.BundleView, **extra: Any) -> dict[str, Any]:
    points = list(selectors.service_points(user=request.user))
    return {
        "view": view,
        "points": points,
        "methods": IdentityMethod.choices,
        "values": {},
        "received": set(),
        "deferred": set(),
        "errors": {},
        **extra,
    }


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """The combined form (一次表单): each fact once, one materials checklist, one identity check."""
    bundle_id = request.GET.get("bundle") or request.POST.get("bundle")
    if not bundle_id:
        return render(request, "onestop/apply_choose.html", {"bundles": selectors.bundle_list()})
    view = selectors.bundle_get(pk=bundle_id)
    if request.method != "POST":
        return render(request, "onestop/apply.html", _form_context(request, view, point_id=request.GET.get("point")))
    post = request.POST
    facts = {f.key: post.get(f.key, "") for f in view.facts}
    received = post.getlist("materials")
    deferred = post.getlist("deferred")
    method = post.get("identity_method", "")
    submit = post.get("action") == "submit"
    try:
        with transaction.atomic():  # nothing half-written: a refused submission leaves no draft behind
            point = selectors.point_get(user=request.user, pk=post.get("point", ""))
            application = services.application_create(
                user=request.user, bundle=view.bundle, point=point, facts=facts, materials_received=received
            )
            if method:
                services.application_verify_identity(
                    user=request.user,
                    application=application,
                    method=method,
                    id_number_read=post.get("id_number_read", ""),
                )
            if submit:
                services.application_submit(
                    user=request.user,
                    application=application,
                    deferred=deferred,
                    deficiency_note=post.get("deficiency_note", ""),
                )
    except WanggeError as error:
        context = _form_context(
            request,
            view,
            point_id=post.get("point"),
            values=facts,
            received=set(received),
            deferred=set(deferred),
            errors=_errors(error),
            error=error,
            method=method,
            note=post.get("deficiency_note", ""),
        )
        return render(request, "onestop/apply.html", context, status=400)
    messages.success(request, _("Accepted and sent to the departments.") if submit else _("Draft saved."))
    return redirect("onestop:application", pk=application.pk)


@login_required
def application_index(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or None
    q = (request.GET.get("q") or "").strip()
    qs = selectors.application_list(user=request.user, state=state, q=q)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [(a, selectors.timing(a)) for a in page.object_list]
    return render(
        request,
        "onestop/applications.html",
        {"page": page, "rows": rows, "state": state or "", "q": q, "states": AppState.choices},
    )


def _application_action(request: HttpRequest, application: Any) -> None:
    action = request.POST.get("action", "")
    user = request.user
    if action == "verify":
        services.application_verify_identity(
            user=user,
            application=application,
            method=request.POST.get("identity_method", ""),
            id_number_read=request.POST.get("id_number_read", ""),
        )
    elif action == "submit":
        if request.POST.getlist("materials"):
            services.application_update(
                user=user, application=application, materials_received=request.POST.getlist("materials")
            )
        services.application_submit(
            user=user,
            application=application,
            deferred=request.POST.getlist("deferred"),
            deficiency_note=request.POST.get("deficiency_note", ""),
        )
    elif action == "receive":
        services.application_receive_material(
            user=user, application=application, material_ids=request.POST.getlist("materials")
        )
    elif action == "resupply":
        services.application_resupply(
            user=user, application=application, materials_received=request.POST.getlist("materials")
        )
    elif action == "issue":
        services.application_issue(user=user, application=application)
    else:
        raise NotFound(gettext_lazy("unknown action"), field="action")


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Each department's part side by side, elapsed working time against the limit, and the window's moves."""
    application = selectors.application_get(user=request.user, pk=pk)
    error = None
    if request.method == "POST":
        try:
            with transaction.atomic():
                _application_action(request, application)
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Done."))
            return redirect("onestop:application", pk=application.pk)
        application = selectors.application_get(user=request.user, pk=pk)
    view = selectors.bundle_get(pk=application.bundle_id)
    tasks = selectors.application_tasks(application)
    received = set(application.materials_received)
    deferred = set(application.materials_deferred)
    context = {
        "app": application,
        "view": view,
        "tasks": tasks,
        "timing": selectors.timing(application),
        "facts": selectors.applicant_facts(application),
        "materials": [(m, m.pk in received, m.pk in deferred) for m in view.materials],
        "methods": IdentityMethod.choices,
        "all_done": bool(tasks) and all(t.state == TaskState.DONE for t in tasks),
        "error": error,
    }
    return render(request, "onestop/application.html", context, status=400 if error else 200)


@login_required
def task_index(request: HttpRequest) -> HttpResponse:
    """A department's queue: only its own tasks (window staff: the tasks of their applications)."""
    state = request.GET.get("state", "open")
    qs = selectors.task_list(user=request.user)
    if state == "open":
        qs = qs.filter(state__in=[TaskState.PENDING, TaskState.ACCEPTED])
    elif state in TaskState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "onestop/tasks.html", {"page": page, "state": state, "states": TaskState.choices})


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One department's part: the facts its item needs (ID masked) and accept / complete / return."""
    task = selectors.task_get(user=request.user, pk=pk)
    error = None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "accept":
                services.task_accept(user=request.user, task=task)
            elif action == "complete":
                services.task_complete(
                    user=request.user,
                    task=task,
                    result=request.POST.get("result", ""),
                    certificate_number=request.POST.get("certificate_number", ""),
                )
            elif action == "return":
                services.task_return(user=request.user, task=task, reason=request.POST.get("reason", ""))
            else:
                raise NotFound(gettext_lazy("unknown action"), field="action")
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Done."))
            return redirect("onestop:task", pk=task.pk)
        task = selectors.task_get(user=request.user, pk=pk)
    application = task.application
    received = set(application.materials_received)
    item_keys = list(dict.fromkeys(task.item.form_fields))
    others = [t for t in selectors.application_tasks(application) if t.pk != task.pk]
    context = {
        "task": task,
        "app": application,
        "facts": selectors.applicant_facts(application, [k for k in item_keys if k in FACTS]),
        "materials": [(m, m.pk in received) for m in task.item.materials.all()],
        "others": others,
        "timing": selectors.timing(application),
        "error": error,
    }
    return render(request, "onestop/task.html", context, status=400 if error else 200)


def public(request: HttpRequest) -> HttpResponse:
    """No login: each bundle's figures and the average elapsed working days of issued applications."""
    return render(request, "onestop/public.html", {"rows": selectors.public_bundles()})
