"""Pages of the open-government catalogue: the staff catalogue with overdue flags and the item editor,
and the public catalogue (city → towns → villages), each item's page with its history, and statistics.

Staff pages read through scoped selectors and write through services; public pages read only
published versions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import PermissionDenied, ValidationFailed, WanggeError
from wangge.core.files import private_file_response
from wangge.core.replica import use_replica
from wangge.opengov import selectors, services
from wangge.opengov.models import DisclosureDomain, DisclosureItem, Frequency, ItemState
from wangge.registry.models import Level

LEVELS = [(Level.CITY, Level.CITY.label), (Level.TOWN, Level.TOWN.label), (Level.VILLAGE, Level.VILLAGE.label)]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _domain(value: Any) -> DisclosureDomain | None:
    pk = _int(value)
    return DisclosureDomain.objects.filter(pk=pk, is_active=True).first() if pk else None


def _frequency(value: Any) -> int:
    days = _int(value)
    if days is None or days not in Frequency.values:
        raise ValidationFailed(_("choose an update frequency"), field="frequency_days")
    return days


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """Items of the user's areas by level and domain, overdue ones first and flagged."""
    g = request.GET
    filters: dict[str, Any] = {
        "level": g.get("level", "") if g.get("level") in dict(LEVELS) else "",
        "domain_id": _int(g.get("domain")),
        "state": g.get("state", "") if g.get("state") in ItemState.values else "",
        "overdue": g.get("overdue") == "1",
        "q": (g.get("q") or "").strip()[:50],
    }
    qs = selectors.item_list(user=request.user, **filters)
    page = Paginator(qs, 50).get_page(g.get("page"))
    rows = [(item, services.can_edit(request.user, item.area_path)) for item in page.object_list]
    return render(
        request,
        "opengov/catalogue.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "levels": LEVELS,
            "domains": selectors.domains(),
            "states": ItemState.choices,
            "overdue_total": selectors.item_list(user=request.user, overdue=True).count(),
            "can_create": _can_create(request.user),
        },
    )


def _can_create(user: Any) -> bool:
    first = selectors.editable_areas(user=user).first()
    return first is not None and services.can_edit(user, first.path)


def _form_values(post: Any) -> dict[str, Any]:
    return {k: post.get(k, "") for k in ("area", "domain", "title", "content", "frequency_days", "responsible_unit")}


@login_required
def item_new(request: HttpRequest) -> HttpResponse:
    """A new draft item of one of the user's areas."""
    areas = [a for a in selectors.editable_areas(user=request.user) if services.can_edit(request.user, a.path)]
    if not areas:
        raise PermissionDenied(_("only village, town and city staff create disclosure items"))
    values: dict[str, Any] = {"frequency_days": str(Frequency.QUARTERLY.value)}
    error: WanggeError | None = None
    if request.method == "POST":
        values = _form_values(request.POST)
        try:
            area = next((a for a in areas if str(a.pk) == values["area"]), None)
            if area is None:
                raise ValidationFailed(_("choose the area"), field="area")
            domain = _domain(values["domain"])
            if domain is None:
                raise ValidationFailed(_("choose a disclosure domain"), field="domain")
            item = services.item_create(
                user=request.user,
                area=area,
                domain=domain,
                title=values["title"],
                content=values["content"],
                responsible_unit=values["responsible_unit"],
                frequency_days=_frequency(values["frequency_days"]),
                attachments=request.FILES.getlist("attachments"),
            )
        except WanggeError as exc:
            error = exc
        else:
            messages.success(request, _("Draft saved. It becomes public when you publish it."))
            return redirect("opengov:item", pk=item.pk)
    return render(
        request,
        "opengov/edit.html",
        {
            "areas": areas,
            "domains": selectors.domains(),
            "frequencies": Frequency.choices,
            "values": values,
            "error": error,
            "item": None,
        },
        status=400 if error else 200,
    )


def _apply(request: HttpRequest, item: DisclosureItem) -> str:
    post = request.POST
    action = post.get("action", "")
    user = request.user
    if action in ("save", "publish") and "title" in post:
        domain = _domain(post.get("domain"))
        if domain is None:
            raise ValidationFailed(_("choose a disclosure domain"), field="domain")
        services.item_update(
            user=user,
            item=item,
            title=post.get("title", ""),
            content=post.get("content", ""),
            responsible_unit=post.get("responsible_unit", ""),
            frequency_days=_frequency(post.get("frequency_days")),
            domain=domain,
            attachments=request.FILES.getlist("attachments"),
            remove_attachment_ids=[i for i in (_int(x) for x in post.getlist("remove")) if i is not None],
        )
    if action == "save":
        return str(_("Draft saved."))
    if action == "publish":
        services.item_publish(user=user, item=item)
        return str(_("Published."))
    if action == "withdraw":
        services.item_withdraw(user=user, item=item, reason=post.get("reason", ""))
        return str(_("Withdrawn."))
    raise ValidationFailed(_("unknown action"), field="action")


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One item: the working copy (editable by its level and above), the published versions, attachments."""
    item = selectors.item_get(user=request.user, pk=pk)
    error: WanggeError | None = None
    if request.method == "POST":
        try:
            with transaction.atomic():  # save-and-publish is one step: both or neither
                note = _apply(request, item)
        except WanggeError as exc:
            error = exc
            item = selectors.item_get(user=request.user, pk=pk)
        else:
            messages.success(request, note)
            return redirect("opengov:item", pk=item.pk)
    values = {
        "domain": str(item.domain_id),
        "title": item.title,
        "content": item.content,
        "frequency_days": str(item.frequency_days),
        "responsible_unit": item.responsible_unit,
    }
    if error is not None:
        values.update({k: v for k, v in _form_values(request.POST).items() if k in request.POST})
    return render(
        request,
        "opengov/item.html",
        {
            "item": item,
            "values": values,
            "versions": selectors.item_versions(item),
            "attachments": list(item.attachments.all()),
            "public_ids": selectors.public_attachment_ids(item),
            "can_edit": services.can_edit(request.user, item.area_path),
            "domains": selectors.domains(),
            "frequencies": Frequency.choices,
            "error": error,
        },
        status=error.status if error else 200,
    )


def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A file: to anyone when the item's published version lists it, else only to staff of its area."""
    att = selectors.attachment_get(user=request.user, pk=pk)
    return private_file_response(
        att.file, filename=att.name, as_attachment=True, missing=_("attachment file not found")
    )


# --- public pages (no login) ---------------------------------------------------------------------


@use_replica()
def public(request: HttpRequest) -> HttpResponse:
    """The public catalogue of one area (the city by default): its items by domain, its towns or villages."""
    area = selectors.public_area(pk=request.GET.get("area"))
    context: dict[str, Any] = {"area": area, "groups": [], "children": [], "breadcrumb": []}
    if area is not None:
        context.update(
            groups=selectors.public_catalogue(area),
            children=selectors.public_children(area),
            breadcrumb=selectors.public_breadcrumb(area),
        )
    return render(request, "opengov/public.html", context)


@use_replica()
def public_item(request: HttpRequest, pk: int) -> HttpResponse:
    """One published item with its content, when it was published, and every earlier version."""
    pi = selectors.public_item(pk=pk)
    return render(
        request,
        "opengov/public_item.html",
        {"pi": pi, "breadcrumb": selectors.public_breadcrumb(pi.item.area)},
    )


@use_replica()
def stats(request: HttpRequest) -> HttpResponse:
    """Counts of published items by domain and level, and how many are up to date."""
    city = selectors.public_area(pk=None)
    return render(
        request, "opengov/stats.html", {"city": city, "stats": selectors.public_stats(city=city), "levels": LEVELS}
    )
