"""Open-government API: the staff catalogue (scoped) with create, update, publish and withdraw; public reads."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.errors import ValidationFailed
from wangge.opengov import selectors, services
from wangge.opengov.models import DisclosureDomain, DisclosureItem, DisclosureVersion
from wangge.opengov.schemas import (
    DomainOut,
    ItemIn,
    ItemOut,
    ItemUpdateIn,
    PublicItemOut,
    StatsOut,
    WithdrawIn,
)
from wangge.registry.models import Area

router = Router(tags=["opengov"], auth=STAFF_AUTH)


def _version(v: DisclosureVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "title": v.title,
        "content": v.content,
        "responsible_unit": v.responsible_unit,
        "published_at": v.published_at,
        "on_time": v.on_time,
    }


def _item(item: DisclosureItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "area_id": item.area_id,
        "area": item.area.name,
        "level": item.level,
        "domain": item.domain.name,
        "domain_code": item.domain.code,
        "title": item.title,
        "content": item.content,
        "frequency_days": item.frequency_days,
        "responsible_unit": item.responsible_unit,
        "state": item.state,
        "has_changes": item.has_changes,
        "published_at": item.published_at,
        "next_due_at": item.next_due_at,
        "overdue_since": item.overdue_since,
        "withdrawn_reason": item.withdrawn_reason,
        "versions": [_version(v) for v in selectors.item_versions(item)],
    }


def _domain(pk: int | None) -> DisclosureDomain:
    domain = DisclosureDomain.objects.filter(pk=pk, is_active=True).first() if pk else None
    if domain is None:
        raise ValidationFailed("找不到该公开领域", "disclosure domain not found", field="domain_id")
    return domain


@router.get("/opengov/domains", response=list[DomainOut], auth=None)
def list_domains(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"id": d.pk, "code": d.code, "name": d.name} for d in selectors.domains()]


@router.get("/opengov/items", response=list[ItemOut])
def list_items(
    request: HttpRequest, level: str = "", state: str = "", overdue: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 500))
    qs = selectors.item_list(user=request.user, level=level, state=state, overdue=overdue)
    return [_item(i) for i in qs[:limit]]


@router.post("/opengov/items", response={201: ItemOut})
def create_item(request: HttpRequest, payload: ItemIn) -> Status[dict[str, Any]]:
    """A draft item of one of the user's areas; publish it with /publish."""
    area = Area.objects.filter(pk=payload.area_id).first()
    if area is None:
        raise ValidationFailed("找不到所属地区", "area not found", field="area_id")
    item = services.item_create(
        user=request.user,
        area=area,
        domain=_domain(payload.domain_id),
        title=payload.title,
        content=payload.content,
        responsible_unit=payload.responsible_unit,
        frequency_days=payload.frequency_days,
    )
    return Status(201, _item(selectors.item_get(user=request.user, pk=item.pk)))


@router.get("/opengov/items/{item_id}", response=ItemOut)
def get_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    return _item(selectors.item_get(user=request.user, pk=item_id))


@router.post("/opengov/items/{item_id}/update", response=ItemOut)
def update_item(request: HttpRequest, item_id: int, payload: ItemUpdateIn) -> dict[str, Any]:
    """Edit the working copy; the public keeps the last published version until the next publish."""
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
    return _item(selectors.item_get(user=request.user, pk=item_id))


@router.post("/opengov/items/{item_id}/publish", response=ItemOut)
def publish_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    item = selectors.item_get(user=request.user, pk=item_id)
    with transaction.atomic():
        services.item_publish(user=request.user, item=item)
    return _item(selectors.item_get(user=request.user, pk=item_id))


@router.post("/opengov/items/{item_id}/withdraw", response=ItemOut)
def withdraw_item(request: HttpRequest, item_id: int, payload: WithdrawIn) -> dict[str, Any]:
    item = selectors.item_get(user=request.user, pk=item_id)
    services.item_withdraw(user=request.user, item=item, reason=payload.reason)
    return _item(selectors.item_get(user=request.user, pk=item_id))


@router.get("/opengov/public/items", response=list[PublicItemOut], auth=None)
def public_items(request: HttpRequest, area_id: int | None = None) -> list[dict[str, Any]]:
    """No login: the published items of one area (the city by default) with their history."""
    area = selectors.public_area(pk=area_id)
    out = []
    for _domain_obj, items in selectors.public_catalogue(area) if area else []:
        for pi in items:
            out.append(
                {
                    "id": pi.item.pk,
                    "area": pi.item.area.name,
                    "level": pi.item.level,
                    "domain": pi.item.domain.name,
                    "title": pi.current.title,
                    "content": pi.current.content,
                    "responsible_unit": pi.current.responsible_unit,
                    "frequency_days": pi.item.frequency_days,
                    "published_at": pi.current.published_at,
                    "history": [_version(v) for v in pi.history],
                }
            )
    return out


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
