"""API shapes of the open-government catalogue."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


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


class ItemOut(Schema):
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


class ItemIn(Schema):
    area_id: int
    domain_id: int
    title: str
    content: str
    responsible_unit: str
    frequency_days: int = 90


class ItemUpdateIn(Schema):
    title: str | None = None
    content: str | None = None
    responsible_unit: str | None = None
    frequency_days: int | None = None
    domain_id: int | None = None


class WithdrawIn(Schema):
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
