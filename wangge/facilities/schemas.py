"""API shapes of the director system; directors' phones leave only masked."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ChecklistItemOut(Schema):
    code: str
    name: str
    category_code: str


class FacilityTypeOut(Schema):
    code: str
    name: str
    category_code: str
    checklist: list[ChecklistItemOut]


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


class InspectionItemOut(Schema):
    code: str
    name: str
    passed: bool
    note: str
    demand_id: int | None
    demand_code: str | None
    demand_reused: bool
    photo_ids: list[int]


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


class ItemIn(Schema):
    code: str
    passed: bool
    note: str = ""


class InspectionIn(Schema):
    """Recorded at the time it arrives (no back-dating: the rule is judged on when checks happen)."""

    items: list[ItemIn]
    director_id: int | None = None
    note: str = ""
    lat: float | None = None
    lng: float | None = None


class PeriodOut(Schema):
    start: dt.date
    end: dt.date
    done: int
    required: int
    met: bool


class RecordOut(Schema):
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


class MissedOut(Schema):
    id: int
    facility_id: int
    director_id: int
    period: str
    period_start: dt.date
    period_end: dt.date
    required: int
    done: int
