"""API shapes of the director system; directors' phones leave only masked.

Outputs read the objects (`resolve_x` where a value is not one attribute): facility types, facilities,
directors, inspections and their items, directors' records and missed inspections.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from wangge.core.api import BodyIn
from wangge.facilities import selectors


class ChecklistItemOut(Schema):
    code: str
    name: str
    category_code: str

    @staticmethod
    def resolve_category_code(obj: Any) -> str:
        return str(obj.demand_category_code)


class FacilityTypeOut(Schema):
    code: str
    name: str
    category_code: str
    checklist: list[ChecklistItemOut]

    @staticmethod
    def resolve_checklist(obj: Any) -> list[Any]:
        return [c for c in obj.checklist.all() if c.is_active]


class DirectorOut(Schema):
    id: int
    level: str
    name: str
    phone_masked: str
    user_id: int | None
    rule_count: int
    rule_period: str
    since: dt.date
    is_active: bool


class FacilityOut(Schema):
    id: int
    code: str
    name: str
    type_code: str
    type_name: str
    area_id: int
    area_name: str
    address: str
    lat: float | None
    lng: float | None
    open_hours: str
    department: str | None
    last_inspected_at: dt.datetime | None
    last_result: str | None
    open_demands: int
    state: str
    directors: list[DirectorOut]

    @staticmethod
    def resolve_type_code(obj: Any) -> str:
        return str(obj.facility_type.code)

    @staticmethod
    def resolve_type_name(obj: Any) -> str:
        return str(obj.facility_type.name)

    @staticmethod
    def resolve_area_name(obj: Any) -> str:
        return str(obj.area.name)

    @staticmethod
    def resolve_department(obj: Any) -> str | None:
        return obj.department.name if obj.department else None

    # Annotations of facility_list; a facility read on its own has none.
    @staticmethod
    def resolve_last_inspected_at(obj: Any) -> dt.datetime | None:
        return getattr(obj, "last_inspected_at", None)

    @staticmethod
    def resolve_last_result(obj: Any) -> str | None:
        return getattr(obj, "last_result", None)

    @staticmethod
    def resolve_open_demands(obj: Any) -> int:
        return getattr(obj, "open_demands", None) or 0

    @staticmethod
    def resolve_state(obj: Any) -> str:
        return selectors.facility_state(obj)

    @staticmethod
    def resolve_directors(obj: Any) -> list[Any]:
        """The active directors prefetched for a list (`with_active_directors`), else highest level first."""
        prefetched = getattr(obj, "active_directors", None)
        return prefetched if prefetched is not None else selectors.facility_directors(obj)


class InspectionItemOut(Schema):
    code: str
    name: str
    passed: bool
    note: str
    demand_id: int | None
    demand_code: str | None
    demand_reused: bool
    photo_ids: list[int]

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.checklist_item.code)

    @staticmethod
    def resolve_demand_code(obj: Any) -> str | None:
        return obj.demand.code if obj.demand else None

    @staticmethod
    def resolve_photo_ids(obj: Any) -> list[int]:
        return [p.pk for p in obj.photos.all()]


class InspectionOut(Schema):
    id: int
    facility_id: int
    director_id: int
    director_name: str
    level: str
    at: dt.datetime
    result: str
    note: str
    lat: float | None
    lng: float | None
    items: list[InspectionItemOut]

    @staticmethod
    def resolve_director_name(obj: Any) -> str:
        return str(obj.director.name)

    @staticmethod
    def resolve_level(obj: Any) -> str:
        return str(obj.director.level)

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return selectors.inspection_items(obj)


class ItemIn(BodyIn):
    code: str
    passed: bool
    note: str = ""


class InspectionIn(BodyIn):
    """Recorded at the time it arrives (no back-dating: the rule is judged on when checks happen)."""

    items: list[ItemIn]
    director_id: int | None = None
    note: str = ""
    lat: float | None = None
    lng: float | None = None
    datum: Literal["wgs84", "cgcs2000", "gcj02", "bd09"] = Field(
        "wgs84", description="of lat/lng: wgs84 (GPS, the browser), cgcs2000, gcj02 (WeChat, Amap), bd09 (Baidu)"
    )


class PeriodOut(Schema):
    start: dt.date
    end: dt.date
    done: int
    required: int
    met: bool


class RecordOut(Schema):
    """Reads a `selectors.DirectorRecord`."""

    director_id: int
    facility_id: int
    facility_name: str
    level: str
    name: str
    rule_count: int
    rule_period: str
    required: int
    done: int
    periods_met: int
    on_time_rate: float | None
    failures: int
    demands_raised: int
    demands_resolved: int
    missed: int
    periods: list[PeriodOut] = Field(default_factory=list)

    @staticmethod
    def resolve_director_id(obj: Any) -> int:
        return int(obj.director.pk)

    @staticmethod
    def resolve_facility_id(obj: Any) -> int:
        return int(obj.director.facility_id)

    @staticmethod
    def resolve_facility_name(obj: Any) -> str:
        return str(obj.facility.name)

    @staticmethod
    def resolve_level(obj: Any) -> str:
        return str(obj.director.level)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.director.name)

    @staticmethod
    def resolve_rule_count(obj: Any) -> int:
        return int(obj.director.rule_count)

    @staticmethod
    def resolve_rule_period(obj: Any) -> str:
        return str(obj.director.rule_period)


class MissedOut(Schema):
    id: int
    facility_id: int
    director_id: int
    period: str
    period_start: dt.date
    period_end: dt.date
    required: int
    done: int
