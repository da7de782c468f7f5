"""API shapes of one-stop services; personal data leaves only masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class MaterialOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    count: int
    deferrable: bool


class FactOut(Schema):
    key: str
    label: str
    label_en: str
    type: str
    choices: list[str]


class ItemOut(Schema):
    id: int
    code: str
    name: str
    department: str
    handle_level: str
    village_ok: bool
    time_limit_days: int
    fee_fen: int
    form_fields: list[str]
    materials: list[str]


class FiguresOut(Schema):
    materials: int
    steps: int
    days: int
    fee_fen: int


class BundleOut(Schema):
    id: int
    code: str
    name: str
    description: str
    village_ok: bool
    figures: FiguresOut
    promised: dict[str, int | None]
    items: list[ItemOut]
    facts: list[FactOut]
    materials: list[MaterialOut]


class TaskOut(Schema):
    id: int
    application_id: int
    item_code: str
    item_name: str
    department: str
    state: str
    due_at: dt.datetime | None
    result: str
    certificate_number: str
    return_reason: str
    facts: dict[str, str]


class ApplicationOut(Schema):
    id: int
    number: str
    bundle_code: str
    point_id: int
    state: str
    applicant_name: str
    phone_masked: str
    id_number_masked: str
    facts: dict[str, str]
    materials_received: list[int]
    materials_deferred: list[int]
    identity_method: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    issued_at: dt.datetime | None
    limit_days: int | None
    elapsed_days: float | None
    overdue: bool
    tasks: list[TaskOut]


class ApplicationIn(Schema):
    bundle_id: int
    point_id: int
    facts: dict[str, Any] = Field(default_factory=dict)
    materials_received: list[int] = Field(default_factory=list)
    identity_method: str = ""
    id_number_read: str = ""
    submit: bool = False
    deferred: list[int] = Field(default_factory=list)
    deficiency_note: str = ""


class SubmitIn(Schema):
    identity_method: str = ""
    id_number_read: str = ""
    materials_received: list[int] = Field(default_factory=list)
    deferred: list[int] = Field(default_factory=list)
    deficiency_note: str = ""


class CompleteIn(Schema):
    result: str = ""
    certificate_number: str = ""


class ReturnIn(Schema):
    reason: str


class PublicBundleOut(Schema):
    code: str
    name: str
    figures: FiguresOut
    issued: int
    average_elapsed_days: float | None
