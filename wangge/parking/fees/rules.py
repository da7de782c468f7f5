"""A tariff's rules as values (steps, peak windows, night rate, day cap) and money in integer fen."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.clock import local_tz
from wangge.core.errors import ValidationFailed
from wangge.holidays.workdays import is_workday

LOCAL_TZ = local_tz()
DAY_KINDS = ("workday", "daily")
# Longest stay the function agrees to walk unit by unit (a car abandoned for longer is a matter
# for the police, not for the fee table).
MAX_STAY_DAYS = 400


def yuan(fen: int) -> str:
    """12.50 for 1250 fen: the only way money is shown."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def fen_from_yuan(text: str | int | float | Decimal, *, field_name: str = "yuan") -> int:
    """Whole fen from a yuan amount typed by a person ("2", "2.5", "2.50"); more decimals are refused."""
    try:
        value = Decimal(str(text).strip().replace("元", "").replace("¥", "").replace("￥", ""))
    except InvalidOperation:
        raise ValidationFailed(
            _("amount '%(text)s' is not a number"), params={"text": text}, field=field_name
        ) from None
    if value < 0:
        raise ValidationFailed(_("an amount cannot be negative"), field=field_name)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValidationFailed(
            _("amount '%(text)s' has more than two decimals"), params={"text": text}, field=field_name
        )
    return int(fen)


@dataclass(frozen=True)
class Step:
    """Minutes [from_minute, to_minute) of a stay at a price per hour, billed in whole units."""

    from_minute: int
    to_minute: int | None  # None: to the end of the stay
    fen_per_hour: int
    unit_minutes: int = 60

    @property
    def unit_fen(self) -> int:
        return self.fen_per_hour * self.unit_minutes // 60

    def contains(self, minute: int) -> bool:
        return self.from_minute <= minute and (self.to_minute is None or minute < self.to_minute)

    def label(self) -> str:
        """第 1 小时 / 第 2–3 小时 / 第 4 小时起, or minutes when the bounds are not whole hours."""
        a, b = self.from_minute, self.to_minute
        if a % 60 == 0 and (b is None or b % 60 == 0):
            first = a // 60 + 1
            if b is None:
                return f"第 {first} 小时起" if first > 1 else "每小时"
            last = b // 60
            return f"第 {first} 小时" if last == first else f"第 {first}–{last} 小时"
        return f"{a} 分钟以后" if b is None else f"第 {a}–{b} 分钟"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PeakWindow:
    """A time of day (not crossing midnight) when peak prices apply, on workdays or every day."""

    start: dt.time
    end: dt.time
    days: str = "workday"

    def covers(self, local: dt.datetime) -> bool:
        if not (self.start <= local.time() < self.end):
            return False
        return self.days == "daily" or is_workday(local.date())

    def label(self) -> str:
        days = "工作日" if self.days == "workday" else "每日"
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M}"

    def as_dict(self) -> dict[str, str]:
        return {"start": f"{self.start:%H:%M}", "end": f"{self.end:%H:%M}", "days": self.days}


@dataclass(frozen=True)
class TariffRules:
    """Everything fee_for needs to know about a tariff, free of the database."""

    steps: tuple[Step, ...]
    free_minutes: int = 0
    free_deducted: bool = False
    day_cap_fen: int | None = None
    peak_windows: tuple[PeakWindow, ...] = ()
    peak_multiplier_pct: int = 100
    peak_steps: tuple[Step, ...] = ()
    night_start: dt.time | None = None
    night_end: dt.time | None = None
    night_fen_per_hour: int | None = None
    name: str = ""

    def is_night(self, local: dt.datetime) -> bool:
        if self.night_start is None or self.night_end is None or self.night_fen_per_hour is None:
            return False
        t = local.time()
        if self.night_start <= self.night_end:
            return self.night_start <= t < self.night_end
        return t >= self.night_start or t < self.night_end  # the usual 20:00 → 07:00 next morning

    def night_label(self) -> str:
        return (
            f"夜间 {self.night_start:%H:%M}–{self.night_end:%H:%M}" if self.night_start and self.night_end else "夜间"
        )

    def describe(self) -> list[str]:
        """The tariff in Chinese, one rule a line, for the lot page and the what-if page."""
        out = []
        if self.free_minutes:
            how = "超时后扣除免费时长计费" if self.free_deducted else "超时后自入场起计费"
            out.append(f"免费时长 {self.free_minutes} 分钟（{how}）")
        for s in self.steps:
            unit = s.unit_minutes
            out.append(
                f"{s.label()}：每小时 {yuan(s.fen_per_hour)} 元，按 {unit} 分钟计，不足 {unit} 分钟按 {unit} 分钟"
            )
        if self.peak_windows:
            windows = "、".join(w.label() for w in self.peak_windows)
            if self.peak_steps:
                steps = "；".join(f"{s.label()} 每小时 {yuan(s.fen_per_hour)} 元" for s in self.peak_steps)
                out.append(f"高峰时段（{windows}）：{steps}")
            elif self.peak_multiplier_pct != 100:
                out.append(f"高峰时段（{windows}）：按标准 × {self.peak_multiplier_pct / 100:g}")
        if self.night_fen_per_hour is not None and self.night_start and self.night_end:
            out.append(f"{self.night_label()}：每小时 {yuan(self.night_fen_per_hour)} 元")
        if self.day_cap_fen is not None:
            out.append(f"每个自然日封顶 {yuan(self.day_cap_fen)} 元")
        return out
