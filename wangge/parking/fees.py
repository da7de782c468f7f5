"""Parking fees: tariff rules and the pure function that charges a stay and explains the charge.

Nothing here touches the clock or writes anything, so the same code charges a car at the gate,
replays a month of stays under a proposed tariff, and is checked by hypothesis. Whether a day is a
working day (for peak windows) comes from the county's holiday calendar, `wangge.holidays.workdays`,
which reads the database once per year and process and then answers from memory.

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
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.clock import local_tz
from wangge.core.errors import FieldProblem, ValidationFailed, render_both
from wangge.core.text import Said
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


# --- the tariff as people write it, and its validation ------------------------------------------

_STEP_LINE = re.compile(r"^\s*(\d+)\s*[-–—－~～](\d*)\s+([\d.]+)\s*(?:元)?\s*(?:/?\s*(\d+))?\s*(?:分钟)?\s*$")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—－~～]\s*(\d{1,2}):(\d{2})\s*$")


def steps_to_text(steps: Iterable[Step | dict[str, Any]]) -> str:
    """Steps as the lines a person edits: `0-60 2.00 30` (minutes, yuan per hour, unit minutes)."""
    out = []
    for s in steps:
        step = s if isinstance(s, Step) else Step(**s)
        end = "" if step.to_minute is None else str(step.to_minute)
        out.append(f"{step.from_minute}-{end} {yuan(step.fen_per_hour)} {step.unit_minutes}")
    return "\n".join(out)


def parse_steps(text: str, *, field_name: str = "steps") -> list[Step]:
    """Read steps typed one a line, `from-to yuan_per_hour unit_minutes`; the last line leaves `to` empty."""
    steps: list[Step] = []
    problems: list[FieldProblem] = []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        m = _STEP_LINE.match(raw)
        if not m:
            problems.append(
                _step_problem(
                    _("line %(row)s '%(text)s' should read 'from-to yuan_per_hour unit_minutes', e.g. '0-60 2 30'"),
                    {"row": n, "text": raw.strip()},
                    field_name,
                    n,
                )
            )
            continue
        try:
            fen = fen_from_yuan(m.group(3), field_name=field_name)
        except ValidationFailed as exc:
            problems.append(
                _step_problem(
                    _("line %(row)s: %(problem)s"), {"row": n, "problem": Said(exc.zh, exc.en)}, field_name, n
                )
            )
            continue
        steps.append(
            Step(
                from_minute=int(m.group(1)),
                to_minute=int(m.group(2)) if m.group(2) else None,
                fen_per_hour=fen,
                unit_minutes=int(m.group(4) or 60),
            )
        )
    if problems:
        raise ValidationFailed(_("the tariff steps are wrong"), field=field_name, problems=problems)
    check_steps(steps, field_name=field_name)
    return steps


def _step_problem(message: Any, params: dict[str, Any], field_name: str, row: int) -> FieldProblem:
    zh, en = render_both(message, params)
    return FieldProblem("bad_step", zh, en, field=field_name, row=row)


def check_steps(steps: list[Step], *, field_name: str = "steps") -> None:
    """Steps start at minute 0, follow one another without gap, end open, and bill in whole fen."""
    problems: list[FieldProblem] = []

    def bad(n: int, message: Any, **params: Any) -> None:
        problem = Said(*render_both(message, params))
        problems.append(_step_problem(_("step %(row)s: %(problem)s"), {"row": n, "problem": problem}, field_name, n))

    if not steps:
        raise ValidationFailed(_("at least one step is needed"), field=field_name)
    expected = 0
    for n, s in enumerate(steps, start=1):
        if s.from_minute != expected:
            bad(n, _("should start at minute %(minute)s (no gaps)"), minute=expected)
        last = n == len(steps)
        if s.to_minute is None and not last:
            bad(n, _("only the last step may be open-ended"))
        if s.to_minute is not None and last:
            bad(n, _("the last step must be open-ended"))
        if s.to_minute is not None and s.to_minute <= s.from_minute:
            bad(n, _("the end must be after the start"))
        if s.unit_minutes <= 0 or s.unit_minutes > 1440:
            bad(n, _("the billing unit must be 1 to 1440 minutes"))
        elif s.fen_per_hour * s.unit_minutes % 60:
            bad(
                n,
                _("%(yuan)s yuan per hour in %(unit)s-minute units is not whole fen"),
                yuan=yuan(s.fen_per_hour),
                unit=s.unit_minutes,
            )
        if s.fen_per_hour < 0:
            bad(n, _("a price cannot be negative"))
        expected = s.to_minute if s.to_minute is not None else expected
    if problems:
        raise ValidationFailed(_("the tariff steps are wrong"), field=field_name, problems=problems)


def parse_windows(text: str, *, days: str = "workday", field_name: str = "peak_windows") -> list[PeakWindow]:
    """Peak windows typed as `07:30-09:30, 17:00-19:00`; each inside one day."""
    if days not in DAY_KINDS:
        raise ValidationFailed(_("unknown kind of peak days"), field=field_name)
    out: list[PeakWindow] = []
    for part in re.split(r"[,，;；\s]+", (text or "").strip()):
        if not part:
            continue
        m = _WINDOW.match(part)
        if not m:
            raise ValidationFailed(
                _("peak window '%(window)s' should read '07:30-09:30'"), params={"window": part}, field=field_name
            )
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        try:
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError:
            raise ValidationFailed(_("invalid time '%(time)s'"), params={"time": part}, field=field_name) from None
        if end <= start:
            raise ValidationFailed(
                _("peak window '%(window)s' must end after it starts, same day"),
                params={"window": part},
                field=field_name,
            )
        out.append(PeakWindow(start, end, days))
    return out


def windows_to_text(windows: Iterable[PeakWindow]) -> str:
    return ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in windows)


def check_rules(rules: TariffRules) -> None:
    """The whole tariff: steps, peak steps, free minutes, cap, multiplier and night window agree."""
    check_steps(list(rules.steps))
    if rules.peak_steps:
        check_steps(list(rules.peak_steps), field_name="peak_steps")
    if not 0 <= rules.free_minutes <= 1440:
        raise ValidationFailed(_("free minutes must be 0 to 1440"), field="free_minutes")
    if rules.day_cap_fen is not None and rules.day_cap_fen < 0:
        raise ValidationFailed(_("the day cap cannot be negative"), field="day_cap_fen")
    if not 100 <= rules.peak_multiplier_pct <= 500:
        raise ValidationFailed(_("the peak multiplier must be between 1 and 5"), field="peak_multiplier_pct")
    night = (rules.night_start, rules.night_end, rules.night_fen_per_hour)
    if any(v is not None for v in night) and any(v is None for v in night):
        raise ValidationFailed(
            _("a night rate needs a start, an end and a price per hour"),
            field="night_start",
        )
    if rules.night_start is not None and rules.night_start == rules.night_end:
        raise ValidationFailed(_("the night window cannot start and end at once"), field="night_end")
