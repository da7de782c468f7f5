"""API shapes of livelihood projects; the public shape carries no personal data.

Outputs read the objects (`resolve_x` where a value is not one attribute): a project's shapes read
a `selectors.ProjectRow` (the project and its measure on the day), a report reads the `ProgressReport`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from wangge.core.api import BodyIn
from wangge.projects import selectors


class MilestoneOut(Schema):
    """Reads a (milestone, status) pair of a `Measure`."""

    id: int
    name: str
    due_on: dt.date
    done_on: dt.date | None
    status: str

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj[0].pk)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj[0].name)

    @staticmethod
    def resolve_due_on(obj: Any) -> dt.date:
        return obj[0].due_on  # type: ignore[no-any-return]

    @staticmethod
    def resolve_done_on(obj: Any) -> dt.date | None:
        return obj[0].done_on  # type: ignore[no-any-return]

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj[1])


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

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return obj.label  # type: ignore[no-any-return]


class _ProjectFields(Schema):
    """How every shape of a project reads a `ProjectRow`; no fields here, so each shape keeps its own order."""

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.project.code)

    @staticmethod
    def resolve_year(obj: Any) -> int:
        return int(obj.project.year)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.project.name)

    @staticmethod
    def resolve_domain(obj: Any) -> str:
        return str(obj.project.domain)

    @staticmethod
    def resolve_works_kind(obj: Any) -> str:
        return str(obj.project.works_kind)

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return str(obj.project.unit)

    @staticmethod
    def resolve_department(obj: Any) -> str:
        return str(obj.project.department.name)

    @staticmethod
    def resolve_area(obj: Any) -> str:
        return str(obj.project.area.name)

    @staticmethod
    def resolve_deadline(obj: Any) -> dt.date:
        return obj.project.deadline  # type: ignore[no-any-return]

    @staticmethod
    def resolve_achieved_as_of(obj: Any) -> dt.date | None:
        return obj.project.achieved_as_of  # type: ignore[no-any-return]

    @staticmethod
    def resolve_milestones(obj: Any) -> list[Any]:
        return list(obj.measure.milestones)


class ProjectOut(_ProjectFields):
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

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.project.pk)

    @staticmethod
    def resolve_budget_fen(obj: Any) -> int:
        return int(obj.project.budget_fen)

    @staticmethod
    def resolve_completed_on(obj: Any) -> dt.date | None:
        return obj.project.completed_on  # type: ignore[no-any-return]

    @staticmethod
    def resolve_people(obj: Any) -> list[dict[str, Any]]:
        return [{"name": x.get("name", ""), "role": x.get("role", "")} for x in obj.project.people or []]


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

    @staticmethod
    def resolve_reported_by(obj: Any) -> str:
        return str(obj.reported_by)

    @staticmethod
    def resolve_photos(obj: Any) -> int:
        return len(obj.photos.all())


class ProjectDetailOut(ProjectOut):
    reports: list[ReportOut]

    @staticmethod
    def resolve_reports(obj: Any) -> list[Any]:
        return selectors.project_reports(obj.project)


class MilestoneIn(BodyIn):
    name: str
    due_on: dt.date


class ProjectIn(BodyIn):
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


class ReportIn(BodyIn):
    period: dt.date
    achieved_to_date: int = Field(description="the cumulative figure achieved to date (the increment is computed)")
    narrative: str = ""
    milestone_id: int | None = None


class CheckIn(BodyIn):
    accepted: bool
    reason: str = ""


class PublicProjectOut(_ProjectFields):
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
