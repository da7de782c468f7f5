"""The tariff as people write it ("0-60 2元/30", "07:30-09:30"), back to text, and its validation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import FieldProblem, ValidationFailed, render_both
from wangge.core.text import Said
from wangge.parking.fees.rules import DAY_KINDS, PeakWindow, Step, TariffRules, fen_from_yuan, yuan

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
