"""API shapes of one-stop services; personal data leaves only masked.

Outputs read the objects (`resolve_x` where a value is not one attribute): a `BundleView`, a
`ServiceItem`, an `Application`, an `ApplicationTask`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from wangge.core.api import BodyIn
from wangge.core.errors import render_both
from wangge.core.masking import decrypt, mask_id_number
from wangge.onestop import selectors
from wangge.onestop.facts import masked


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

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return render_both(obj.label)[0]

    @staticmethod
    def resolve_label_en(obj: Any) -> str:
        return render_both(obj.label)[1]

    @staticmethod
    def resolve_choices(obj: Any) -> list[str]:
        return list(obj.choices)


class ServiceItemOut(Schema):
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

    @staticmethod
    def resolve_department(obj: Any) -> str:
        return str(obj.department.name)

    @staticmethod
    def resolve_form_fields(obj: Any) -> list[str]:
        return list(obj.form_fields)

    @staticmethod
    def resolve_materials(obj: Any) -> list[str]:
        return [m.code for m in obj.materials.all()]


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
    items: list[ServiceItemOut]
    facts: list[FactOut]
    materials: list[MaterialOut]

    @staticmethod
    def resolve_id(obj: Any) -> int:
        return int(obj.bundle.pk)

    @staticmethod
    def resolve_code(obj: Any) -> str:
        return str(obj.bundle.code)

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.bundle.name)

    @staticmethod
    def resolve_description(obj: Any) -> str:
        return str(obj.bundle.description)

    @staticmethod
    def resolve_promised(obj: Any) -> dict[str, int | None]:
        b = obj.bundle
        return {
            "materials": b.promised_materials,
            "steps": b.promised_steps,
            "days": b.promised_days,
            "fee_fen": b.promised_fee_fen,
        }


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

    @staticmethod
    def resolve_item_code(obj: Any) -> str:
        return str(obj.item.code)

    @staticmethod
    def resolve_item_name(obj: Any) -> str:
        return str(obj.item.name)

    @staticmethod
    def resolve_department(obj: Any) -> str:
        return str(obj.department.name)

    @staticmethod
    def resolve_facts(obj: Any) -> dict[str, str]:
        # Only the facts this item needs, ID numbers masked: what a department may see.
        return {f.key: v for f, v in selectors.applicant_facts(obj.application, list(obj.item.form_fields))}


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

    @staticmethod
    def resolve_bundle_code(obj: Any) -> str:
        return str(obj.bundle.code)

    @staticmethod
    def resolve_id_number_masked(obj: Any) -> str:
        return mask_id_number(decrypt(obj.applicant_id_enc))

    @staticmethod
    def resolve_facts(obj: Any) -> dict[str, str]:
        return masked(obj.facts)

    @staticmethod
    def resolve_elapsed_days(obj: Any) -> float | None:
        timing = _timing(obj)
        return timing.elapsed_days if timing else None

    @staticmethod
    def resolve_overdue(obj: Any) -> bool:
        timing = _timing(obj)
        return timing.overdue if timing else False

    @staticmethod
    def resolve_tasks(obj: Any) -> list[Any]:
        return selectors.application_tasks(obj)


def _timing(application: Any) -> selectors.Timing | None:
    """The timing once per answer, so that elapsed days and overdue are read at the same instant."""
    if not hasattr(application, "_api_timing"):
        application._api_timing = selectors.timing(application)
    return application._api_timing  # type: ignore[no-any-return]


class ApplicationIn(BodyIn):
    bundle_id: int
    point_id: int
    facts: dict[str, Any] = Field(default_factory=dict)
    materials_received: list[int] = Field(default_factory=list)
    identity_method: str = ""
    id_number_read: str = ""
    submit: bool = False
    deferred: list[int] = Field(default_factory=list)
    deficiency_note: str = ""


class SubmitIn(BodyIn):
    identity_method: str = ""
    id_number_read: str = ""
    materials_received: list[int] = Field(default_factory=list)
    deferred: list[int] = Field(default_factory=list)
    deficiency_note: str = ""


class CompleteIn(BodyIn):
    result: str = ""
    certificate_number: str = ""


class TaskReturnIn(BodyIn):
    reason: str


class PublicBundleOut(Schema):
    code: str
    name: str
    figures: FiguresOut
    issued: int
    average_elapsed_days: float | None
