"""The fee function: worked examples written out by hand, then properties checked by hypothesis."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.core.errors import ValidationFailed
from wangge.parking.fees import (
    LOCAL_TZ,
    PeakWindow,
    Step,
    TariffRules,
    fee_for,
    fen_from_yuan,
    parse_steps,
    parse_windows,
    steps_to_text,
)
from wangge.parking.testing import STANDARD_STEPS

# Peak windows on working days read the county's holiday calendar from the database.
pytestmark = pytest.mark.django_db

# Free 15 minutes (then charged from entry); hour 1: ¥2/h in 30-minute units (¥1.00 a unit);
# hours 2–3: ¥3 an hour; then ¥5 an hour; at most ¥20 a calendar day.
STANDARD = TariffRules(steps=tuple(STANDARD_STEPS), free_minutes=15, day_cap_fen=2000, name="标准")
MONDAY = dt.date(2026, 6, 1)  # an ordinary working Monday
SATURDAY = dt.date(2026, 6, 6)
NATIONAL_DAY = dt.date(2026, 10, 1)  # a Thursday, but a public holiday


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=LOCAL_TZ)


def stay(rules: TariffRules, minutes: float, start: dt.datetime | None = None) -> int:
    start = start or at(MONDAY, 10)
    return fee_for(rules, start, start + dt.timedelta(minutes=minutes)).total_fen


# --- worked examples -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "fen", "why"),
    [
        (0, 0, "no time, no fee"),
        (10, 0, "inside the 15 free minutes"),
        (15, 0, "exactly the free minutes is still free"),
        (15.5, 100, "15m30s rounds up to 16 minutes > 15: one 30-minute unit of hour 1 = ¥1.00"),
        (16, 100, "one 30-minute unit = ¥1.00 (free time counted once exceeded)"),
        (30, 100, "still one unit"),
        (45, 200, "two units of 30 minutes = ¥2.00"),
        (60, 200, "the whole first hour = ¥2.00"),
        (61, 500, "¥2 for hour 1 + one started hour of hours 2–3 at ¥3 = ¥5.00"),
        (150, 800, "¥2 + two hours at ¥3 = ¥8.00"),
        (180, 800, "exactly three hours = ¥8.00"),
        (240, 1300, "¥2 + ¥6 + one hour at ¥5 = ¥13.00"),
        (300, 1800, "¥2 + ¥6 + two hours at ¥5 = ¥18.00"),
        (360, 2000, "¥2 + ¥6 + three hours at ¥5 = ¥23.00, capped at ¥20.00"),
    ],
)
def test_worked_examples_of_the_standard_tariff(minutes: float, fen: int, why: str) -> None:
    assert stay(STANDARD, minutes) == fen, why


def test_the_explanation_reads_line_by_line_in_chinese() -> None:
    b = fee_for(STANDARD, at(MONDAY, 10), at(MONDAY, 12, 30))
    assert b.total_fen == 800
    assert [line.text for line in b.lines] == [
        "免费时长 15 分钟（停车超过 15 分钟，自入场起计费）",
        "第 1 小时 2.00 元（每 30 分钟 1.00 元 × 2）",
        "第 2–3 小时 6.00 元（每 60 分钟 3.00 元 × 2）",
        "合计 8.00 元",
    ]
    assert b.minutes == 150 and b.charged_minutes == 150


def test_the_day_cap_is_explained() -> None:
    b = fee_for(STANDARD, at(MONDAY, 10), at(MONDAY, 16))
    assert b.total_fen == 2000
    assert "6月1日 当日封顶 20.00 元（原 23.00 元）" in b.text
    assert b.days == [{"day": "2026-06-01", "fen": 2000, "uncapped_fen": 2300}]


def test_across_midnight_the_units_fall_on_their_own_day() -> None:
    # 22:00 → 02:00. June 1: 22:00–22:30 ¥1, 22:30–23:00 ¥1, 23:00–24:00 ¥3 = ¥5.
    # June 2: 00:00–01:00 ¥3 (hours 2–3), 01:00–02:00 ¥5 (hour 4 on) = ¥8. Total ¥13.
    b = fee_for(STANDARD, at(MONDAY, 22), at(MONDAY + dt.timedelta(days=1), 2))
    assert b.total_fen == 1300
    assert [(d["day"], d["fen"]) for d in b.days] == [("2026-06-01", 500), ("2026-06-02", 800)]
    assert b.lines[1].text.startswith("【6月1日】第 1 小时")


def test_a_multi_day_stay_pays_one_cap_per_calendar_day() -> None:
    # June 1 08:00 → June 3 10:00. June 1: ¥2 + ¥6 + 13 h × ¥5 = ¥73 → ¥20.
    # June 2: 24 h × ¥5 = ¥120 → ¥20. June 3: 10 h × ¥5 = ¥50 → ¥20. Total ¥60.
    b = fee_for(STANDARD, at(MONDAY, 8), at(MONDAY + dt.timedelta(days=2), 10))
    assert b.total_fen == 6000
    assert [(d["uncapped_fen"], d["fen"]) for d in b.days] == [(7300, 2000), (12000, 2000), (5000, 2000)]


def test_two_hours_over_midnight_never_pay_more_than_two_caps() -> None:
    # 23:00 → 23:00 next day: June 1 pays ¥1 + ¥1 = ¥2 for 23:00–24:00; June 2 pays the rest, capped.
    b = fee_for(STANDARD, at(MONDAY, 23), at(MONDAY + dt.timedelta(days=1), 23))
    assert b.days[0]["fen"] == 200
    assert b.days[1]["fen"] == 2000
    assert b.total_fen == 2200


def test_free_minutes_deducted() -> None:
    # With the free quarter deducted, 75 minutes are charged as 60: the first hour, ¥2.00.
    rules = TariffRules(steps=tuple(STANDARD_STEPS), free_minutes=15, free_deducted=True, day_cap_fen=2000)
    assert stay(rules, 75) == 200
    assert stay(rules, 76) == 500
    assert "（已扣除）" in fee_for(rules, at(MONDAY, 10), at(MONDAY, 11, 15)).text


PEAK = PeakWindow(dt.time(7, 30), dt.time(9, 30))


def test_peak_multiplier_on_workdays_only() -> None:
    rules = TariffRules(steps=tuple(STANDARD_STEPS), free_minutes=15, peak_windows=(PEAK,), peak_multiplier_pct=150)
    # 07:00–07:30 ordinary ¥1.00; 07:30–08:00 in the peak at ¥1.00 × 1.5 = ¥1.50. Total ¥2.50.
    assert fee_for(rules, at(MONDAY, 7), at(MONDAY, 8)).total_fen == 250
    assert fee_for(rules, at(SATURDAY, 7), at(SATURDAY, 8)).total_fen == 200
    assert fee_for(rules, at(NATIONAL_DAY, 7), at(NATIONAL_DAY, 8)).total_fen == 200
    text = fee_for(rules, at(MONDAY, 7), at(MONDAY, 8)).text
    assert "高峰时段（工作日 07:30–09:30，× 1.5）第 1 小时 1.50 元（每 30 分钟 1.50 元 × 1）" in text


def test_own_peak_steps_replace_the_ordinary_ones_inside_the_window() -> None:
    peak_steps = (Step(0, 60, 300, 30), Step(60, None, 600, 60))
    rules = TariffRules(steps=tuple(STANDARD_STEPS), free_minutes=15, peak_windows=(PEAK,), peak_steps=peak_steps)
    # 08:00–09:00 wholly in the peak: two units of ¥1.50 = ¥3.00.
    assert fee_for(rules, at(MONDAY, 8), at(MONDAY, 9)).total_fen == 300
    # 09:00–09:30 peak ¥1.50; 09:30–10:00 ordinary ¥1.00; 10:00–11:00 ordinary hours 2–3 ¥3.00. Total ¥5.50.
    assert fee_for(rules, at(MONDAY, 9), at(MONDAY, 10, 30)).total_fen == 550


def test_night_rate() -> None:
    rules = TariffRules(
        steps=tuple(STANDARD_STEPS),
        free_minutes=15,
        night_start=dt.time(20),
        night_end=dt.time(7),
        night_fen_per_hour=100,
    )
    # 19:00–20:00 the first hour ¥2.00; 20:00–22:00 two night hours at ¥1.00. Total ¥4.00.
    b = fee_for(rules, at(MONDAY, 19), at(MONDAY, 22))
    assert b.total_fen == 400
    assert "夜间 20:00–07:00 2.00 元（每 60 分钟 1.00 元 × 2）" in b.text
    # Early morning is night too (the window crosses midnight): 05:00–06:00 = ¥1.00.
    assert fee_for(rules, at(MONDAY, 5), at(MONDAY, 6)).total_fen == 100


def test_exit_before_entry_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        fee_for(STANDARD, at(MONDAY, 10), at(MONDAY, 9))
    assert exc.value.field == "exited_at"
    assert "出场时间早于入场时间" in str(exc.value)


def test_money_is_whole_fen() -> None:
    assert fen_from_yuan("2") == 200
    assert fen_from_yuan("2.5") == 250
    assert fen_from_yuan("¥0.05") == 5
    with pytest.raises(ValidationFailed):
        fen_from_yuan("2.005")
    with pytest.raises(ValidationFailed):
        fen_from_yuan("-1")


def test_steps_as_people_type_them() -> None:
    steps = parse_steps("0-60 2 30\n60-180 3 60\n180- 5 60")
    assert steps == STANDARD_STEPS
    assert parse_steps(steps_to_text(steps)) == steps


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "至少需要一个收费阶梯"),
        ("0-60 2 30", "最后一段不写结束分钟"),
        ("10- 2 30", "应从第 0 分钟开始"),
        ("0-60 2 30\n90- 3 60", "应从第 60 分钟开始"),
        ("0-60 0.01 30", "不是整分钱"),
        ("零到六十 两元", "应写成"),
    ],
)
def test_bad_steps_are_refused_with_the_line(text: str, needle: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_steps(text)
    problems = " ".join(p.zh for p in exc.value.problems) + exc.value.zh
    assert needle in problems


def test_peak_windows_as_people_type_them() -> None:
    windows = parse_windows("07:30-09:30，17:00-19:00")
    assert [(w.start, w.end) for w in windows] == [(dt.time(7, 30), dt.time(9, 30)), (dt.time(17), dt.time(19))]
    with pytest.raises(ValidationFailed):
        parse_windows("22:00-06:00")


# --- properties ----------------------------------------------------------------------------------


@st.composite
def tariffs(draw: st.DrawFn) -> TariffRules:
    bounds = sorted(draw(st.sets(st.integers(1, 24), max_size=3)))
    edges = [0] + [b * 60 for b in bounds]
    steps = []
    for i, start in enumerate(edges):
        end = edges[i + 1] if i + 1 < len(edges) else None
        unit = draw(st.sampled_from([15, 30, 60]))
        if end is not None:
            unit = min(unit, end - start)
        steps.append(Step(start, end, 4 * draw(st.integers(0, 500)), unit))  # 4 fen steps bill in whole fen
    peak = draw(st.booleans())
    night = draw(st.booleans())
    return TariffRules(
        steps=tuple(steps),
        free_minutes=draw(st.integers(0, 60)),
        free_deducted=draw(st.booleans()),
        day_cap_fen=draw(st.one_of(st.none(), st.integers(0, 10000))),
        peak_windows=(PEAK, PeakWindow(dt.time(17), dt.time(19), "daily")) if peak else (),
        peak_multiplier_pct=draw(st.integers(100, 300)),
        night_start=dt.time(20) if night else None,
        night_end=dt.time(7) if night else None,
        night_fen_per_hour=draw(st.integers(0, 300)) if night else None,
    )


entries = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 1)).map(
    lambda d: d.replace(tzinfo=LOCAL_TZ)
)
stays = st.integers(min_value=0, max_value=4 * 86400)  # seconds


@settings(max_examples=200, deadline=None)
@given(tariffs(), entries, stays, stays)
def test_fee_is_never_negative_and_never_falls_as_the_stay_grows(
    rules: TariffRules, entered: dt.datetime, a: int, b: int
) -> None:
    short, long = sorted((a, b))
    fee_short = fee_for(rules, entered, entered + dt.timedelta(seconds=short)).total_fen
    fee_long = fee_for(rules, entered, entered + dt.timedelta(seconds=long)).total_fen
    assert 0 <= fee_short <= fee_long


@settings(max_examples=200, deadline=None)
@given(tariffs(), entries, stays)
def test_fee_never_exceeds_one_cap_per_calendar_day(rules: TariffRules, entered: dt.datetime, seconds: int) -> None:
    exited = entered + dt.timedelta(seconds=seconds)
    b = fee_for(rules, entered, exited)
    days = (exited.astimezone(LOCAL_TZ).date() - entered.astimezone(LOCAL_TZ).date()).days + 1
    if rules.day_cap_fen is not None:
        assert b.total_fen <= rules.day_cap_fen * days
        assert all(d["fen"] <= rules.day_cap_fen for d in b.days)
    # The explanation adds up: the lines of units and caps make the total, and so do the days.
    assert sum(line.fen for line in b.lines if line.kind != "total") == b.total_fen
    assert sum(d["fen"] for d in b.days) == b.total_fen
    assert b.lines[-1].text == f"合计 {b.total_yuan} 元"


@settings(max_examples=200, deadline=None)
@given(tariffs(), entries, st.floats(min_value=0, max_value=1))
def test_stays_within_the_free_minutes_are_free(rules: TariffRules, entered: dt.datetime, share: float) -> None:
    seconds = int(rules.free_minutes * 60 * share)
    assert fee_for(rules, entered, entered + dt.timedelta(seconds=seconds)).total_fen == 0
