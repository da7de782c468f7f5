"""API shapes of parking: what gates and wardens send, and what they get back."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from wangge.core.api import BodyIn


class GateEventIn(BodyIn):
    """An entry or exit as a gate or a warden's app sends it; a retry sends the same event_id."""

    lot_id: int
    plate: str = Field(..., max_length=16, description="车牌号，如 湘A12345 或新能源 湘AD12345")
    event_id: str = Field(..., min_length=1, max_length=64, description="发送方生成的唯一编号；重发时不变")
    source: Literal["gate", "warden"] = "gate"
    at: dt.datetime | None = Field(None, description="事件时间（含时区）；缺省为服务器当前时间")


class FeeLineOut(Schema):
    kind: str
    text: str
    fen: int
    day: str | None = None
    units: int = 0
    unit_fen: int = 0
    unit_minutes: int = 0


class SessionOut(Schema):
    id: int
    lot_id: int
    plate: str
    state: str
    entered_at: dt.datetime
    exited_at: dt.datetime | None
    minutes: int | None
    fee_fen: int | None
    fee_yuan: str | None
    over_capacity: bool
    source: str


class EntryOut(Schema):
    session: SessionOut
    created: bool
    occupancy: int
    capacity: int
    over_capacity: bool


class ExitOut(Schema):
    session: SessionOut
    created: bool
    fee_fen: int
    fee_yuan: str
    explanation: str
    lines: list[FeeLineOut]


class LotOut(Schema):
    id: int
    name: str
    kind: str
    zone: str
    capacity: int
    occupied: int
    today_sessions: int
    today_turnover: float
    area_id: int
    area_name: str
    operator_id: int | None
    tariff_id: int
    tariff_name: str
    address: str
    lat: float | None
    lng: float | None


class HourOut(Schema):
    hour: int
    avg_parked: float
    pct: float
    entries: int


class OccupancyOut(Schema):
    lot_id: int
    capacity: int
    occupied: int
    day: dt.date
    hours: list[HourOut]


def session_out(session: Any, plate: str) -> SessionOut:
    return SessionOut(
        id=session.pk,
        lot_id=session.lot_id,
        plate=plate,
        state=session.state,
        entered_at=session.entered_at,
        exited_at=session.exited_at,
        minutes=session.minutes,
        fee_fen=session.fee_fen,
        fee_yuan=session.fee_yuan or None,
        over_capacity=session.over_capacity,
        source=session.source,
    )
