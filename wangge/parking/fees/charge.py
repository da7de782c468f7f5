"""Charge a stay under a tariff and explain the charge line by line.

How a stay is charged (the rules a county's price bureau publishes for on-street parking):

1. A stay of at most `free_minutes` is free. Longer stays are charged from the moment of entry
   (the usual "超过免费时长的，免费时段一并计费"), or, when `free_deducted`, from the end of the
   free time.
2. The charged time is cut into billing units. Each step of the tariff covers minutes
   [from, to) of the stay at a price per hour, billed in whole units (30 or 60 minutes) rounded
   up, so the first hour at ¥2 in 30-minute units is two units of ¥1.00.
3. A unit that starts inside a peak window (e.g. workdays 07:30–09:30) costs the step's price
   times the peak multiplier, or the matching step of the peak steps when the tariff has its own;
   a unit that starts in the night window costs the night rate instead.
4. Units are added up per calendar day in Asia/Shanghai (the day a unit starts in) and each
   day's sum is capped at `day_cap_fen`; a stay across midnight pays at most one cap per day.

Money is integer fen throughout; a price that cannot be billed in whole fen is refused when the
tariff is saved, and multiplied prices round up to the next fen.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.parking.fees.rules import LOCAL_TZ, MAX_STAY_DAYS, PeakWindow, Step, TariffRules, yuan


@dataclass
class FeeLine:
    """One line of the explanation: what was charged and why."""

    kind: str  # free, step, peak, night, cap, total
    text: str
    fen: int = 0
    day: str | None = None
    units: int = 0
    unit_fen: int = 0
    unit_minutes: int = 0


@dataclass
class FeeBreakdown:
    """The fee of one stay and its explanation, line by line in Chinese."""

    total_fen: int
    minutes: int  # length of the stay, whole minutes rounded up
    charged_minutes: int
    lines: list[FeeLine] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    tariff: str = ""

    @property
    def total_yuan(self) -> str:
        return yuan(self.total_fen)

    @property
    def text(self) -> str:
        return "；".join(line.text for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_fen": self.total_fen,
            "total_yuan": self.total_yuan,
            "minutes": self.minutes,
            "charged_minutes": self.charged_minutes,
            "tariff": self.tariff,
            "days": self.days,
            "lines": [asdict(line) for line in self.lines],
        }


def _rules_of(tariff: Any) -> TariffRules:
    if isinstance(tariff, TariffRules):
        return tariff
    return tariff.rules()  # type: ignore[no-any-return]


def _step_at(steps: tuple[Step, ...], minute: int) -> Step:
    for step in steps:
        if step.contains(minute):
            return step
    return steps[-1]  # validated tariffs always end open, this is only a guard


def _group_label(rules: TariffRules, kind: str, peak: PeakWindow | None, step: Step) -> str:
    if kind == "night":
        return rules.night_label()
    if kind == "peak" and peak is not None:
        if rules.peak_steps:
            return f"高峰时段（{peak.label()}）{step.label()}"
        return f"高峰时段（{peak.label()}，× {rules.peak_multiplier_pct / 100:g}）{step.label()}"
    return step.label()


def _short_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def fee_for(tariff: Any, entered_at: dt.datetime, exited_at: dt.datetime) -> FeeBreakdown:
    """The fee for a stay from `entered_at` to `exited_at` under `tariff`, with its explanation.

    Pure: the same tariff and times always give the same fee. The walk goes unit by unit; the
    units and their prices depend only on the entry time, so a later exit only ever adds units
    (the fee never falls as a stay grows) and each calendar day stays under its cap.
    """
    rules = _rules_of(tariff)
    if entered_at.tzinfo is None or exited_at.tzinfo is None:
        raise ValidationFailed(_("times must be timezone-aware"), field="entered_at")
    if exited_at < entered_at:
        raise ValidationFailed(_("exit is before entry"), field="exited_at")
    seconds = (exited_at - entered_at).total_seconds()
    if seconds > MAX_STAY_DAYS * 86400:
        raise ValidationFailed(
            _("stay longer than %(days)s days: handle by hand"), params={"days": MAX_STAY_DAYS}, field="exited_at"
        )
    minutes = math.ceil(seconds / 60)
    if minutes <= rules.free_minutes:
        text = f"免费时长 {rules.free_minutes} 分钟内，不收费" if rules.free_minutes else "未计费"
        return FeeBreakdown(
            total_fen=0,
            minutes=minutes,
            charged_minutes=0,
            lines=[FeeLine("free", text), FeeLine("total", "合计 0.00 元")],
            tariff=rules.name,
        )
    offset = rules.free_minutes if rules.free_deducted else 0
    charged = minutes - offset
    start = entered_at + dt.timedelta(minutes=offset)

    # Walk the units; group consecutive alike units of a day into one explanation line.
    day_sum: dict[dt.date, int] = {}
    groups: list[dict[str, Any]] = []
    position = 0
    while position < charged:
        local = (start + dt.timedelta(minutes=position)).astimezone(LOCAL_TZ)
        day = local.date()
        peak = next((w for w in rules.peak_windows if w.covers(local)), None)
        if peak is not None and rules.peak_steps:
            step = _step_at(rules.peak_steps, position)
            kind, price = "peak", step.unit_fen
        else:
            step = _step_at(rules.steps, position)
            if peak is not None and rules.peak_multiplier_pct != 100:
                kind, price = "peak", -(-step.unit_fen * rules.peak_multiplier_pct // 100)
            elif rules.is_night(local):
                kind, price = "night", -(-(rules.night_fen_per_hour or 0) * step.unit_minutes // 60)
                peak = None
            else:
                kind, price, peak = "step", step.unit_fen, None
        end = position + step.unit_minutes
        if step.to_minute is not None:
            end = min(end, step.to_minute)
        day_sum[day] = day_sum.get(day, 0) + price
        last = groups[-1] if groups else None
        key = (day, kind, peak, step, price)
        if last is not None and last["key"] == key:
            last["units"] += 1
        else:
            groups.append({"key": key, "units": 1})
        position = end

    multi_day = len(day_sum) > 1
    lines: list[FeeLine] = []
    if rules.free_minutes:
        how = "已扣除" if rules.free_deducted else f"停车超过 {rules.free_minutes} 分钟，自入场起计费"
        lines.append(FeeLine("free", f"免费时长 {rules.free_minutes} 分钟（{how}）"))
    days_out: list[dict[str, Any]] = []
    total = 0
    for day in sorted(day_sum):
        prefix = f"【{_short_day(day)}】" if multi_day else ""
        for g in groups:
            g_day, kind, peak, step, price = g["key"]
            if g_day != day:
                continue
            unit = step.unit_minutes
            label = _group_label(rules, kind, peak, step)
            amount = price * g["units"]
            lines.append(
                FeeLine(
                    kind,
                    f"{prefix}{label} {yuan(amount)} 元（每 {unit} 分钟 {yuan(price)} 元 × {g['units']}）",
                    fen=amount,
                    day=day.isoformat(),
                    units=g["units"],
                    unit_fen=price,
                    unit_minutes=unit,
                )
            )
        uncapped = day_sum[day]
        fen = uncapped
        if rules.day_cap_fen is not None and uncapped > rules.day_cap_fen:
            fen = rules.day_cap_fen
            lines.append(
                FeeLine(
                    "cap",
                    f"{_short_day(day)} 当日封顶 {yuan(fen)} 元（原 {yuan(uncapped)} 元）",
                    fen=fen - uncapped,
                    day=day.isoformat(),
                )
            )
        days_out.append({"day": day.isoformat(), "fen": fen, "uncapped_fen": uncapped})
        total += fen
    lines.append(FeeLine("total", f"合计 {yuan(total)} 元", fen=total))
    return FeeBreakdown(
        total_fen=total, minutes=minutes, charged_minutes=charged, lines=lines, days=days_out, tariff=rules.name
    )
