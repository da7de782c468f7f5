"""Input and output shapes of the visits API (the pages use forms; the rules are in the services).

Outputs read the objects' attributes (`resolve_x` where a value is not one attribute).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from wangge.core.api import BodyIn


class OpinionIn(BodyIn):
    text: str = Field(..., max_length=2000)
    category: str = Field(
        "other", description="development, infrastructure, environment, livelihood, safety, policy, party or other"
    )


class VisitDemandIn(BodyIn):
    """A demand raised on the visit: filed with channel "visit" in the same transaction, or nothing is."""

    description: str = Field("", max_length=5000)
    title: str = Field("", max_length=200)
    category: str | None = Field(None, description="demand category code, e.g. 0102")
    urgency: str = "normal"
    kind: str = "help"


class VisitIn(BodyIn):
    household_id: int
    how: str = Field("in_person", description="in_person, phone, wechat or group_meeting")
    notes: str = Field("", max_length=5000)
    visited_at: dt.datetime | None = Field(None, description="when (with a time zone); now when left out")
    opinions: list[OpinionIn] = Field(default_factory=list)
    demand: VisitDemandIn | None = None


class OpinionOut(Schema):
    id: int
    visit_id: int
    household_id: int
    text: str
    category: str
    state: str
    answer: str
    answered_at: dt.datetime | None
    adopted_at: dt.datetime | None
    created_at: dt.datetime


class VisitOut(Schema):
    id: int
    visitor: str
    household_id: int
    household: str
    grid_id: int
    grid_name: str
    visited_at: dt.datetime
    how: str
    notes: str
    demand_id: int | None
    demand_code: str | None
    opinions: list[OpinionOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_visitor(obj: Any) -> str:
        return str(obj.visitor)

    @staticmethod
    def resolve_household(obj: Any) -> str:
        return str(obj.household)

    @staticmethod
    def resolve_grid_name(obj: Any) -> str:
        return obj.grid.name

    @staticmethod
    def resolve_demand_code(obj: Any) -> str | None:
        return obj.demand.code if obj.demand_id and obj.demand else None

    @staticmethod
    def resolve_opinions(obj: Any) -> list[Any]:
        return list(obj.opinions.all())


class VisitListQuery(Schema):
    area_id: int | None = None
    household_id: int | None = None
    how: str | None = None
    date_from: str | None = None
    date_to: str | None = None


class OpinionListQuery(Schema):
    state: str | None = None
    category: str | None = None
    area_id: int | None = None


class FollowUpIn(BodyIn):
    state: str = Field(..., description="adopted or answered")
    answer: str = Field("", max_length=2000)


class CoverageRowOut(Schema):
    area_id: int | None
    area_name: str
    level: str
    households: int
    visited_this_month: int
    never_visited: int
    percent: int

    @staticmethod
    def resolve_area_id(obj: Any) -> int | None:
        return obj.area.pk if obj.area else None

    @staticmethod
    def resolve_area_name(obj: Any) -> str:
        return obj.area.name if obj.area else ""

    @staticmethod
    def resolve_level(obj: Any) -> str:
        return obj.area.level if obj.area else ""


class CoverageOut(Schema):
    month: str
    total: CoverageRowOut
    rows: list[CoverageRowOut]

    @staticmethod
    def resolve_month(obj: Any) -> str:
        return f"{obj.month_start:%Y-%m}"
