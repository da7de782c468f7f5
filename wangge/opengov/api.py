"""Open-government API: the staff catalogue (scoped) with create, update, publish and withdraw; public reads."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import ValidationFailed
from wangge.opengov import selectors, services
from wangge.opengov.models import DisclosureDomain, DisclosureItem
from wangge.opengov.schemas import (
    DisclosureItemIn,
    DisclosureItemOut,
    DomainOut,
    ItemUpdateIn,
    PublicItemOut,
    StatsOut,
    WithdrawIn,
)
from wangge.registry.models import Area

router = Router(tags=["opengov"], auth=STAFF_AUTH)


def _domain(pk: int | None) -> DisclosureDomain:
    domain = DisclosureDomain.objects.filter(pk=pk, is_active=True).first() if pk else None
    if domain is None:
        raise ValidationFailed(_("disclosure domain not found"), field="domain_id")
    return domain


@router.get("/opengov/domains", response=list[DomainOut], auth=None)
def list_domains(request: HttpRequest) -> Any:
    return selectors.domains()


@router.get("/opengov/items", response=list[DisclosureItemOut])
def list_items(request: HttpRequest, level: str = "", state: str = "", overdue: bool = False, limit: int = 100) -> Any:
    limit = max(1, min(limit, 500))
    qs = selectors.item_list(user=request.user, level=level, state=state, overdue=overdue)
    return qs[:limit]


@router.post("/opengov/items", response={201: DisclosureItemOut})
def create_item(request: HttpRequest, payload: DisclosureItemIn) -> Status[DisclosureItem]:
    """A draft item of one of the user's areas; publish it with /publish."""
    area = Area.objects.filter(pk=payload.area_id).first()
    if area is None:
        raise ValidationFailed(pgettext_lazy("opengov area_id", "area not found"), field="area_id")
    item = services.item_create(
        user=request.user,
        area=area,
        domain=_domain(payload.domain_id),
        title=payload.title,
        content=payload.content,
        responsible_unit=payload.responsible_unit,
        frequency_days=payload.frequency_days,
    )
    return Status(201, selectors.item_get(user=request.user, pk=item.pk))


@router.get("/opengov/items/{item_id}", response=DisclosureItemOut)
def get_item(request: HttpRequest, item_id: int) -> DisclosureItem:
    return selectors.item_get(user=request.user, pk=item_id)


@router.post("/opengov/items/{item_id}/update", response=DisclosureItemOut)
def update_item(request: HttpRequest, item_id: int, payload: ItemUpdateIn) -> DisclosureItem:
    """Edit the working copy; the public keeps the last published version until the next publish."""
    if not payload.model_dump(exclude_none=True):
        raise ValidationFailed(_("name at least one field to change"))
    item = selectors.item_get(user=request.user, pk=item_id)
    services.item_update(
        user=request.user,
        item=item,
        title=payload.title,
        content=payload.content,
        responsible_unit=payload.responsible_unit,
        frequency_days=payload.frequency_days,
        domain=_domain(payload.domain_id) if payload.domain_id is not None else None,
    )
    return selectors.item_get(user=request.user, pk=item_id)


@router.post("/opengov/items/{item_id}/publish", response=DisclosureItemOut)
def publish_item(request: HttpRequest, item_id: int) -> DisclosureItem:
    item = selectors.item_get(user=request.user, pk=item_id)
    with transaction.atomic():
        services.item_publish(user=request.user, item=item)
    return selectors.item_get(user=request.user, pk=item_id)


@router.post("/opengov/items/{item_id}/withdraw", response=DisclosureItemOut)
def withdraw_item(request: HttpRequest, item_id: int, payload: WithdrawIn) -> DisclosureItem:
    item = selectors.item_get(user=request.user, pk=item_id)
    services.item_withdraw(user=request.user, item=item, reason=payload.reason)
    return selectors.item_get(user=request.user, pk=item_id)


@router.get("/opengov/public/items", response=list[PublicItemOut], auth=None)
def public_items(request: HttpRequest, area_id: int | None = None) -> list[Any]:
    """No login: the published items of one area (the city by default) with their history."""
    area = selectors.public_area(pk=area_id)
    return [pi for _domain, items in (selectors.public_catalogue(area) if area else []) for pi in items]


@router.get("/opengov/public/stats", response=StatsOut, auth=None)
def public_stats(request: HttpRequest) -> dict[str, Any]:
    stats = selectors.public_stats(city=selectors.public_area(pk=None))
    return {
        "total": stats.total,
        "by_level": {str(k): v for k, v in stats.by_level.items()},
        "up_to_date_percent": stats.up_to_date_percent,
        "on_time_percent": stats.on_time_percent,
        "rows": [
            {
                "domain": d.name,
                "city": cells.get("city", 0),
                "town": cells.get("town", 0),
                "village": cells.get("village", 0),
                "total": total,
            }
            for d, cells, total in stats.rows
        ],
    }
