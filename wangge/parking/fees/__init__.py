"""Parking fees: tariff rules and the pure function that charges a stay and explains the charge.

Nothing here touches the clock or writes anything, so the same code charges a car at the gate,
replays a month of stays under a proposed tariff, and is checked by hypothesis. Whether a day is a
working day (for peak windows) comes from the county's holiday calendar, `wangge.holidays.workdays`,
which reads the database once per year and process and then answers from memory.

`rules` holds the tariff and money values, `charge` the function that charges a stay and its
explanation, `parsing` the tariff as people write it and its validation.
"""

from __future__ import annotations

from wangge.parking.fees.charge import FeeBreakdown, FeeLine, fee_for
from wangge.parking.fees.parsing import (
    check_rules,
    check_steps,
    parse_steps,
    parse_windows,
    steps_to_text,
    windows_to_text,
)
from wangge.parking.fees.rules import (
    DAY_KINDS,
    LOCAL_TZ,
    MAX_STAY_DAYS,
    PeakWindow,
    Step,
    TariffRules,
    fen_from_yuan,
    yuan,
)

__all__ = [
    "DAY_KINDS",
    "LOCAL_TZ",
    "MAX_STAY_DAYS",
    "FeeBreakdown",
    "FeeLine",
    "PeakWindow",
    "Step",
    "TariffRules",
    "check_rules",
    "check_steps",
    "fee_for",
    "fen_from_yuan",
    "parse_steps",
    "parse_windows",
    "steps_to_text",
    "windows_to_text",
    "yuan",
]
