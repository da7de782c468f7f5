"""What if the tariff changed? Replay the stays of a period under the current and a proposed tariff.

The stays are the recorded ones (same cars, same times); only the price differs, so the revenue
difference is what the proposed tariff would have charged for the same behaviour. How people
would react is a stated assumption, not a forecast: a duration elasticity `e` (default -0.3, the
middle of published estimates for on-street parking, roughly -0.1 to -0.6) says that a 10 %
higher average fee shortens the average stay by 3 %. With the spaces kept as full as before,
shorter stays mean more cars per space: turnover scales by 1 / (1 + e × Δprice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from wangge.parking.fees import TariffRules, fee_for, yuan
from wangge.parking.models import ParkingLot, ParkingSession, SessionState
from wangge.parking.selectors import period_bounds

# Fee bands for the distribution, in fen: [lower, upper).
BANDS: list[tuple[int, int | None, str]] = [
    (0, 1, "免费"),
    (1, 201, "0–2 元"),
    (201, 501, "2–5 元"),
    (501, 1001, "5–10 元"),
    (1001, 2001, "10–20 元"),
    (2001, None, "20 元以上"),
]


def default_elasticity() -> float:
    return float(getattr(settings, "PARKING_DURATION_ELASTICITY", -0.3))


@dataclass
class Scenario:
    """One tariff's replay: revenue, average fee and how the fees are spread."""

    label: str
    sessions: int = 0
    revenue_fen: int = 0
    free: int = 0
    bands: list[dict[str, Any]] = field(default_factory=list)
    rules_text: list[str] = field(default_factory=list)

    @property
    def avg_fee_fen(self) -> int:
        return round(self.revenue_fen / self.sessions) if self.sessions else 0

    @property
    def revenue_yuan(self) -> str:
        return yuan(self.revenue_fen)

    @property
    def avg_fee_yuan(self) -> str:
        return yuan(self.avg_fee_fen)


@dataclass
class WhatIf:
    """Current against proposed, side by side, with the assumption that turns prices into turnover."""

    current: Scenario
    proposed: Scenario
    capacity: int
    days: int
    elasticity: float
    avg_minutes: float | None

    @property
    def price_change(self) -> float | None:
        """Relative change of the average fee (None when the current tariff charges nothing)."""
        if not self.current.avg_fee_fen:
            return None
        return self.proposed.avg_fee_fen / self.current.avg_fee_fen - 1

    @property
    def stay_factor(self) -> float | None:
        change = self.price_change
        if change is None:
            return None
        # Stays never shrink below a tenth: the linear rule is only meant for moderate changes.
        return max(0.1, 1 + self.elasticity * change)

    @property
    def turnover_now(self) -> float:
        if not self.capacity or not self.days:
            return 0.0
        return round(self.current.sessions / (self.capacity * self.days), 2)

    @property
    def turnover_expected(self) -> float | None:
        factor = self.stay_factor
        return None if factor is None else round(self.turnover_now / factor, 2)

    @property
    def turnover_change_pct(self) -> float | None:
        factor = self.stay_factor
        return None if factor is None else round((1 / factor - 1) * 100, 1)

    @property
    def revenue_change_pct(self) -> float | None:
        if not self.current.revenue_fen:
            return None
        return round((self.proposed.revenue_fen / self.current.revenue_fen - 1) * 100, 1)

    @property
    def assumption(self) -> str:
        return (
            f"假设停放时长对价格的弹性为 {self.elasticity:g}：平均收费每上涨 1%，平均停放时长缩短 "
            f"{abs(self.elasticity):g}%；车位占用率不变，周转率与平均停放时长成反比。"
            "收入按原停放记录重算，未计入行为变化。"
        )


def _band_counts(fees: Iterable[int]) -> tuple[list[dict[str, Any]], int]:
    counts = [0] * len(BANDS)
    free = 0
    for fen in fees:
        if fen == 0:
            free += 1
        for i, (lo, hi, _label) in enumerate(BANDS):
            if fen >= lo and (hi is None or fen < hi):
                counts[i] += 1
                break
    return [{"label": label, "count": counts[i]} for i, (_lo, _hi, label) in enumerate(BANDS)], free


def replay(
    *,
    lots: Iterable[ParkingLot],
    start: dt.date,
    end: dt.date,
    proposed: TariffRules,
    proposed_label: str,
    elasticity: float | None = None,
) -> WhatIf:
    """Charge every stay that ended in [start, end] in `lots` under each lot's tariff and under `proposed`.

    `lots` must come from a scoped selector. The fee function is Python, so the stays are read as
    three plain columns in one streamed query and charged one by one; the figures that need no
    fee (counts, stay length) come from the same pass.
    """
    lots = list(lots)
    lo, hi, days = period_bounds(start, end)
    rules_by_lot = {lot.pk: lot.tariff.rules() for lot in lots}
    rows = (
        ParkingSession.objects.filter(
            lot_id__in=list(rules_by_lot), state=SessionState.CLOSED, exited_at__gte=lo, exited_at__lt=hi
        )
        .values_list("lot_id", "entered_at", "exited_at", "minutes")
        .order_by()
        .iterator(chunk_size=2000)
    )
    current_fees: list[int] = []
    proposed_fees: list[int] = []
    minutes_total = 0
    for lot_id, entered, exited, minutes in rows:
        if exited is None:
            continue  # a closed stay always has its exit; the guard is for the type checker
        current_fees.append(fee_for(rules_by_lot[lot_id], entered, exited).total_fen)
        proposed_fees.append(fee_for(proposed, entered, exited).total_fen)
        minutes_total += minutes or 0
    tariffs = sorted({lot.tariff.name for lot in lots})
    current_text: list[str] = []
    if len(tariffs) == 1 and lots:
        current_text = lots[0].tariff.rules().describe()
    current_bands, current_free = _band_counts(current_fees)
    proposed_bands, proposed_free = _band_counts(proposed_fees)
    current = Scenario(
        label="现行：" + ("、".join(tariffs) or "—"),
        sessions=len(current_fees),
        revenue_fen=sum(current_fees),
        free=current_free,
        bands=current_bands,
        rules_text=current_text,
    )
    proposal = Scenario(
        label="拟议：" + proposed_label,
        sessions=len(proposed_fees),
        revenue_fen=sum(proposed_fees),
        free=proposed_free,
        bands=proposed_bands,
        rules_text=proposed.describe(),
    )
    return WhatIf(
        current=current,
        proposed=proposal,
        capacity=sum(lot.capacity for lot in lots),
        days=days,
        elasticity=default_elasticity() if elasticity is None else elasticity,
        avg_minutes=round(minutes_total / len(current_fees), 1) if current_fees else None,
    )
