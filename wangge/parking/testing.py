"""Factories for parking tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from wangge.parking.fees import Step
from wangge.parking.models import LotKind, ParkingLot, Tariff, Zone
from wangge.parking.services import lot_create, rules_from, tariff_save
from wangge.registry.models import Area

_seq = itertools.count(1)

# The tariff of the worked examples: 15 free minutes (charged from entry when exceeded), the first
# hour ¥2 in 30-minute units, hours 2–3 ¥3 an hour, then ¥5 an hour, at most ¥20 a calendar day.
STANDARD_STEPS = [Step(0, 60, 200, 30), Step(60, 180, 300, 60), Step(180, None, 500, 60)]


def make_tariff(**overrides: Any) -> Tariff:
    n = next(_seq)
    parts: dict[str, Any] = {"steps": STANDARD_STEPS, "free_minutes": 15, "day_cap_fen": 2000, "name": f"标准收费{n}"}
    valid_from = overrides.pop("valid_from", dt.date(2026, 1, 1))
    parts.update(overrides)
    return tariff_save(rules=rules_from(**parts), valid_from=valid_from)


def make_lot(*, area: Area, **overrides: Any) -> ParkingLot:
    n = next(_seq)
    data: dict[str, Any] = {
        "name": f"停车场{n}",
        "kind": LotKind.SURFACE,
        "capacity": 10,
        "zone": Zone.ORDINARY,
        "address": f"{area.name}停车场{n}号",
    }
    data.update(overrides)
    if "tariff" not in data:
        data["tariff"] = make_tariff()
    return lot_create(area=area, **data)
