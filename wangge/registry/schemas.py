from __future__ import annotations

from ninja import Schema


class AreaOut(Schema):
    id: int
    level: str
    code: str
    name: str
    parent_id: int | None
    path: str
    household_count: int
    centre_lat: float | None
    centre_lng: float | None


class HouseholdOut(Schema):
    id: int
    grid_id: int
    address: str
    head_name: str
    phone_masked: str
    members: int
    care_tags: list[str]
