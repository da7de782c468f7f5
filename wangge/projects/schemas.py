"""API shapes of livelihood projects; the public shape carries no personal data."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class MilestoneOut(Schema):
    id: int
    name: str
    due_on: dt.date
    done_on: dt.date | None
    status: str


class PersonOut(Schema):
    name: str
    role: str


class MeasureOut(Schema):
    target: int
    achieved: int
    percent: float
    expected_percent: float
    status: str
    status_label: str


class ProjectOut(Schema):
    id: int
    code: str
    year: int
    name: str
    domain: str
    works_kind: str
    unit: str
    budget_fen: int
    department: str
    area: str
    deadline: dt.date
    achieved_as_of: dt.date | None
    completed_on: dt.date | None
    people: list[PersonOut]
    measure: MeasureOut
    milestones: list[MilestoneOut]


class ReportOut(Schema):
    id: int
    project_id: int
    period: dt.date
    achieved_to_date: int
    increment: int
    narrative: str
    milestone_id: int | None
    state: str
    reported_by: str
    reported_at: dt.datetime
    checked_at: dt.datetime | None
    return_reason: str
    photos: int


class ProjectDetailOut(ProjectOut):
    reports: list[ReportOut]


class MilestoneIn(Schema):
    name: str
    due_on: dt.date


class ProjectIn(Schema):
    code: str
    name: str
    year: int
    domain: str
    works_kind: str = ""
    target: int
    unit: str
    budget_fen: int = 0
    department_id: int
    area_id: int
    deadline: dt.date
    people: list[PersonOut] = Field(default_factory=list)
    milestones: list[MilestoneIn] = Field(default_factory=list)
    description: str = ""


class ReportIn(Schema):
    period: dt.date
    achieved_to_date: int = Field(description="the cumulative figure achieved to date (the increment is computed)")
    narrative: str = ""
    milestone_id: int | None = None


class CheckIn(Schema):
    accepted: bool
    reason: str = ""


class PublicProjectOut(Schema):
    code: str
    year: int
    name: str
    domain: str
    works_kind: str
    unit: str
    department: str
    area: str
    deadline: dt.date
    achieved_as_of: dt.date | None
    measure: MeasureOut
    milestones: list[MilestoneOut]
