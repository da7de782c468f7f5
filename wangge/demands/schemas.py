"""Input and output shapes of the demands API (validation shared with nothing else: pages use forms).

Outputs read the model's attributes (`resolve_x` where a value is not one attribute); the JSON
each route answers is what docs/api.md and the OpenAPI document publish.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from wangge.core.api import BodyIn


class DemandIn(BodyIn):
    title: str = Field("", max_length=200)
    description: str = Field(..., max_length=5000)
    kind: str = "help"
    channel: str = "api"
    category: str | None = Field(None, description="category code, e.g. 0102")
    urgency: str = "normal"
    reporter_name: str = Field("", max_length=50)
    reporter_phone: str = Field("", max_length=20)
    grid: str | None = Field(None, description="micro-grid code (as in its QR code)")
    area_id: int | None = None
    household_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    datum: str = Field(
        "wgs84", description="datum of lat/lng: wgs84, cgcs2000, gcj02 (WeChat, Amap, Tencent), bd09 (Baidu)"
    )
    address: str = Field("", max_length=300)
    publish_consent: bool = Field(
        False, description="the reporter agreed to publish their own words (without name, phone or house number)"
    )
    confidential: bool = Field(
        False, description="保密: keep it with its holders (never published, offered as a duplicate or followed)"
    )


class DemandOut(Schema):
    id: int
    code: str
    kind: str
    channel: str
    category: str | None
    category_name: str | None
    urgency: str
    title: str
    description: str
    address: str
    lat: float | None
    lng: float | None
    location_datum: str  # the datum the point came in; lat/lng are WGS-84
    reporter_name: str
    reporter_phone_masked: str
    publish_consent: bool
    confidential: bool
    area_id: int
    area_name: str
    holder: str
    holder_kind: str
    holder_area_id: int | None
    holder_department_id: int | None
    holder_user_id: int | None
    state: str
    version: int
    warning: str
    escalations: int
    highest_level: str
    accept_due_at: dt.datetime | None
    resolve_due_at: dt.datetime | None
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    verified_at: dt.datetime | None
    closed_at: dt.datetime | None
    resolution: str
    satisfaction: str | None
    # The resident's answer to "is the problem solved?" with the first rating (null: not answered).
    rated_solved: bool | None
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_category(obj: Any) -> str | None:
        return obj.category.code if obj.category_id and obj.category else None

    @staticmethod
    def resolve_category_name(obj: Any) -> str | None:
        return obj.category.name if obj.category_id and obj.category else None

    @staticmethod
    def resolve_area_name(obj: Any) -> str:
        return obj.area.name if obj.area_id and obj.area else ""

    @staticmethod
    def resolve_holder(obj: Any) -> str:
        return obj.holder_label


class DemandCreatedOut(DemandOut):
    # Returned once to the client that filed it, so it can give the resident the private link.
    tracking_token: str


class DemandListQuery(Schema):
    """The filters of GET /demands: demands.selectors.DemandFilter's parameters (the area as `area_id`)."""

    state: str | None = None
    category: str | None = Field(None, description="category code: the category and those below it")
    urgency: str | None = None
    overdue: bool | None = None
    area_id: int | None = None
    channel: str | None = None
    q: str | None = Field(None, description="a code (exact), a phone (exact) or words")
    date_from: str | None = Field(None, description="received on or after, YYYY-MM-DD")
    date_to: str | None = Field(None, description="received on or before, YYYY-MM-DD")
    call_back: bool | None = Field(
        None, description="true: resolved, not rated, not called back (回访) yet, not filed on the resident page"
    )


class EventOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: str | None
    actor_kind: str
    from_state: str
    to_state: str
    from_holder: str
    to_holder: str
    note: str
    is_public: bool
    note_public: bool

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return str(obj.actor) if obj.actor_id and obj.actor else None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_code: str | None
    default_department_id: int | None
    accept_hours_normal: int
    accept_hours_urgent: int
    resolve_value_normal: int
    resolve_value_urgent: int
    resolve_unit: str

    @staticmethod
    def resolve_parent_code(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id and obj.parent else None


class VersionIn(BodyIn):
    version: int | None = Field(None, description="the version you saw; a stale one gives 409")


class ResolveIn(VersionIn):
    result: str = Field(..., max_length=5000)


class ReasonIn(VersionIn):
    reason: str = Field(..., max_length=5000)


class EscalateIn(ReasonIn):
    public: bool = Field(False, description="show the reason to the resident")


class DispatchIn(VersionIn):
    department_id: int
    note: str = Field("", max_length=5000)
    public: bool = Field(False, description="show the note to the resident")


class ReturnIn(VersionIn):
    to_area_id: int | None = None
    instructions: str = Field(..., max_length=5000)
    public: bool = Field(False, description="show the instructions to the resident")


class CallBackIn(VersionIn):
    reached: bool
    solved: bool | None = None
    satisfaction: str | None = Field(None, description="satisfied, basic or unsatisfied")
    note: str = Field("", max_length=5000)


class CallBackOut(Schema):
    id: int
    demand_id: int
    at: dt.datetime
    reached: bool
    solved: bool | None
    satisfaction: str | None
    note: str


class ReassignIn(VersionIn):
    to_user_id: int
    note: str = Field("", max_length=5000)


class MergeIn(VersionIn):
    into_id: int


class CommentIn(BodyIn):
    body: str = Field(..., max_length=5000)
    visibility: str = "staff"


class CommentOut(Schema):
    id: int
    body: str
    visibility: str
    created_at: dt.datetime


# --- 延期 (extension) and 挂起 (suspension) ---------------------------------------------------


class ExtendIn(VersionIn):
    reason: str = Field(..., max_length=1000)
    # Optional in the shape so that the scope is checked first (404 outside it); the service requires it.
    until: dt.datetime | dt.date | None = Field(
        None, description="required: the new deadline, a date (the close of that working day) or a moment"
    )


class SuspendIn(VersionIn):
    reason: str = Field(..., max_length=1000)
    until: dt.datetime | dt.date | None = Field(
        None, description="when the clock resumes by itself (a date: the opening of that working day); null: by hand"
    )


class DecideIn(BodyIn):
    # Optional in the shape so that the scope is checked first (404 outside it); the route requires it.
    approve: bool | None = Field(None, description="required: true approves, false refuses")
    note: str = Field("", max_length=1000, description="the reason, required to refuse")


class RequestOut(Schema):
    id: int
    demand_id: int
    demand_code: str
    kind: str
    reason: str
    until: dt.datetime | None
    state: str
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str

    @staticmethod
    def resolve_demand_code(obj: Any) -> str:
        return str(obj.demand.code)

    @staticmethod
    def resolve_requested_by(obj: Any) -> str | None:
        return str(obj.requested_by) if obj.requested_by_id and obj.requested_by else None

    @staticmethod
    def resolve_decided_by(obj: Any) -> str | None:
        return str(obj.decided_by) if obj.decided_by_id and obj.decided_by else None


# --- 督办/催办 (urging) and 协办 (co-handling): api_cohandling.py ---------------------------------


class UrgeIn(BodyIn):
    note: str = Field("", max_length=1000, description="what the urging level asks of the holder")


class AssistIn(VersionIn):
    department_id: int = Field(..., description="an active department of the demand's city, not the lead")
    task: str = Field(..., max_length=2000)


class AssistReplyIn(BodyIn):
    reply: str = Field(..., max_length=2000)


class AssistOut(Schema):
    id: int
    demand_id: int
    department_id: int
    department_name: str
    task: str
    assigned_at: dt.datetime
    reply: str
    replied_at: dt.datetime | None

    @staticmethod
    def resolve_department_name(obj: Any) -> str:
        return str(obj.department.name)
