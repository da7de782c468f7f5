"""API shapes of the open-government catalogue (outputs read the objects, `resolve_x` where needed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict

from wangge.core.api import BodyIn
from wangge.opengov import selectors


class DomainOut(Schema):
    id: int
    code: str
    name: str


class VersionOut(Schema):
    number: int
    title: str
    content: str
    responsible_unit: str
    published_at: dt.datetime
    on_time: bool | None


class DisclosureItemOut(Schema):
    id: int
    area_id: int
    area: str
    level: str
    domain: str
    domain_code: str
    title: str
    content: str
    frequency_days: int
    responsible_unit: str
    state: str
    has_changes: bool
    published_at: dt.datetime | None
    next_due_at: dt.datetime | None
    overdue_since: dt.datetime | None
    withdrawn_reason: str
    versions: list[VersionOut]

    @staticmethod
    def resolve_area(obj: Any) -> str:
        return obj.area.name

    @staticmethod
    def resolve_domain(obj: Any) -> str:
        return obj.domain.name

    @staticmethod
    def resolve_domain_code(obj: Any) -> str:
        return obj.domain.code

    @staticmethod
    def resolve_versions(obj: Any) -> list[Any]:
        return list(selectors.item_versions(obj))


class StrictIn(BodyIn):
    """A request body that names only known fields: a misspelt one is refused (422), not quietly ignored."""

    model_config = ConfigDict(extra="forbid")


class DisclosureItemIn(StrictIn):
    area_id: int
    domain_id: int
    title: str
    content: str
    responsible_unit: str
    frequency_days: int = 90


class ItemUpdateIn(StrictIn):
    title: str | None = None
    content: str | None = None
    responsible_unit: str | None = None
    frequency_days: int | None = None
    domain_id: int | None = None


class WithdrawIn(StrictIn):
    reason: str


class PublicItemOut(Schema):
    id: int
    area: str
    level: str
    domain: str
    title: str
    content: str
    responsible_unit: str
    frequency_days: int
    published_at: dt.datetime
    history: list[VersionOut]

    # Read from a published item (selectors.public_catalogue): the item and its current version.
    @staticmethod
    def resolve_id(obj: Any) -> int:
        return obj.item.pk

    @staticmethod
    def resolve_area(obj: Any) -> str:
        return obj.item.area.name

    @staticmethod
    def resolve_level(obj: Any) -> str:
        return obj.item.level

    @staticmethod
    def resolve_domain(obj: Any) -> str:
        return obj.item.domain.name

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return obj.current.title

    @staticmethod
    def resolve_content(obj: Any) -> str:
        return obj.current.content

    @staticmethod
    def resolve_responsible_unit(obj: Any) -> str:
        return obj.current.responsible_unit

    @staticmethod
    def resolve_frequency_days(obj: Any) -> int:
        return obj.item.frequency_days

    @staticmethod
    def resolve_published_at(obj: Any) -> dt.datetime:
        return obj.current.published_at


class StatsRowOut(Schema):
    domain: str
    city: int
    town: int
    village: int
    total: int


class StatsOut(Schema):
    total: int
    by_level: dict[str, int]
    up_to_date_percent: float | None
    on_time_percent: float | None
    rows: list[StatsRowOut]
