"""API shapes of governance topics; the public shape carries no personal data (counts, no demands)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from wangge.core.api import BodyIn


class ReachOut(Schema):
    demands: int
    people: int
    records: int  # system-filed records (inspections with no reporter), not people


class ProgressOut(Schema):
    id: int
    on: dt.date
    note: str
    is_public: bool


class TopicOut(Schema):
    id: int
    title: str
    summary: str
    area_id: int
    area_name: str
    department_id: int
    department_name: str
    plan: str
    due_on: dt.date
    state: str
    closure_note: str
    closed_at: dt.datetime | None
    category_code: str | None = None
    keywords: list[str]
    project_id: int | None


class LinkOut(Schema):
    demand_id: int
    code: str = Field(..., alias="demand.code")
    how: str
    linked_at: dt.datetime


class TopicDetailOut(TopicOut):
    reach: ReachOut
    progress: list[ProgressOut]
    links: list[LinkOut]


class PublicTopicOut(Schema):
    id: int
    title: str
    summary: str
    area_name: str
    department_name: str
    plan: str
    due_on: dt.date
    state: str
    closure_note: str
    reach: ReachOut
    progress: list[ProgressOut]


class TopicIn(BodyIn):
    title: str
    area_id: int
    department_id: int
    due_on: dt.date
    demand_ids: list[int] = []
    keywords: list[str] = []
    summary: str = ""
    plan: str = ""


class TopicUpdateIn(BodyIn):
    title: str | None = None
    summary: str | None = None
    plan: str | None = None
    due_on: dt.date | None = None
    keywords: list[str] | None = None
    activate: bool = False


class ProgressIn(BodyIn):
    note: str
    on: dt.date | None = None
    is_public: bool = True


class CloseIn(BodyIn):
    note: str


class LinkIn(BodyIn):
    demand_id: int


class TopicProjectIn(BodyIn):
    code: str
    domain: str
    target: int
    unit: str


class ProactiveIn(BodyIn):
    grid_ids: list[int] | None = None
    note: str = ""


class ProactiveOut(Schema):
    opened: list[str]  # the codes of the demands opened
    already: int
