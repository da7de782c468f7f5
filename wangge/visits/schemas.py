"""Input and output shapes of the visits API (the pages use forms; the rules are in the services)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class OpinionIn(Schema):
    text: str = Field(..., max_length=2000)
    category: str = Field(
        "other", description="development, infrastructure, environment, livelihood, safety, policy, party or other"
    )


class VisitDemandIn(Schema):
    """A demand raised on the visit: filed with channel "visit" in the same transaction, or nothing is."""

    description: str = Field("", max_length=5000)
    title: str = Field("", max_length=200)
    category: str | None = Field(None, description="demand category code, e.g. 0102")
    urgency: str = "normal"
    kind: str = "help"


class VisitIn(Schema):
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


class VisitPage(Schema):
    items: list[VisitOut]
    next_cursor: str | None


class OpinionPage(Schema):
    items: list[OpinionOut]
    next_cursor: str | None


class FollowUpIn(Schema):
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


class CoverageOut(Schema):
    month: str
    total: CoverageRowOut
    rows: list[CoverageRowOut]
