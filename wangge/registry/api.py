"""Registry reads for staff apps, scoped like every page."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.registry import selectors
from wangge.registry.schemas import AreaOut, HouseholdOut

router = Router(tags=["registry"], auth=STAFF_AUTH)


@router.get("/areas", response=list[AreaOut])
def list_areas(request: HttpRequest, level: str | None = None, parent_id: int | None = None, limit: int = 500) -> list:
    parent = selectors.area_get(user=request.user, pk=parent_id) if parent_id else None
    limit = max(1, min(limit, 5000))
    return list(selectors.area_list(user=request.user, level=level, parent=parent)[:limit])


@router.get("/areas/{area_id}", response=AreaOut)
def get_area(request: HttpRequest, area_id: int) -> object:
    return selectors.area_get(user=request.user, pk=area_id)


@router.get("/households", response=list[HouseholdOut])
def list_households(request: HttpRequest, area_id: int | None = None, tag: str | None = None, limit: int = 100) -> list:
    area = selectors.area_get(user=request.user, pk=area_id) if area_id else None
    limit = max(1, min(limit, 1000))
    rows = selectors.household_list(user=request.user, area=area, tag=tag)[:limit]
    return [
        HouseholdOut(
            id=h.id,
            grid_id=h.grid_id,
            address=h.address,
            head_name=h.head_name,
            phone_masked=h.phone_masked,
            members=h.members,
            care_tags=h.tag_list,
        )
        for h in rows
    ]
