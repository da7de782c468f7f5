"""Periods in Asia/Shanghai: calendar days, Monday–Sunday weeks and calendar months; only complete ones are judged."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from wangge.facilities import rules

D = dt.date


def test_period_starts() -> None:
    wednesday = D(2026, 3, 4)
    assert rules.period_start(wednesday, "day") == wednesday
    assert rules.period_start(wednesday, "week") == D(2026, 3, 2)
    assert rules.period_start(wednesday, "month") == D(2026, 3, 1)
    assert rules.next_start(D(2026, 1, 1), "month") == D(2026, 2, 1)
    assert rules.next_start(D(2026, 12, 1), "month") == D(2027, 1, 1)
    assert rules.next_start(D(2026, 3, 2), "week") == D(2026, 3, 9)


def test_last_complete_period() -> None:
    monday = D(2026, 3, 9)
    assert rules.last_complete(monday, "day") == (D(2026, 3, 8), monday)
    assert rules.last_complete(monday, "week") == (D(2026, 3, 2), monday)
    assert rules.last_complete(D(2026, 3, 1), "month") == (D(2026, 2, 1), D(2026, 3, 1))
    assert rules.last_complete(D(2026, 3, 31), "month") == (D(2026, 2, 1), D(2026, 3, 1))


def test_complete_periods_start_on_or_after_the_first_day() -> None:
    # A director from Wednesday 4 March is first judged for the week of Monday 9 March.
    assert rules.complete_periods("week", D(2026, 3, 4), D(2026, 3, 25)) == [
        (D(2026, 3, 9), D(2026, 3, 16)),
        (D(2026, 3, 16), D(2026, 3, 23)),
    ]
    assert rules.complete_periods("day", D(2026, 3, 4), D(2026, 3, 6)) == [
        (D(2026, 3, 4), D(2026, 3, 5)),
        (D(2026, 3, 5), D(2026, 3, 6)),
    ]
    assert rules.complete_periods("month", D(2026, 1, 1), D(2026, 3, 15)) == [
        (D(2026, 1, 1), D(2026, 2, 1)),
        (D(2026, 2, 1), D(2026, 3, 1)),
    ]
    assert rules.complete_periods("month", D(2026, 3, 2), D(2026, 3, 31)) == []


def test_local_days_are_shanghai_days() -> None:
    late = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)  # 00:30 on 3 March in Shanghai
    assert rules.local_date(late) == D(2026, 3, 3)
    assert rules.local_midnight(D(2026, 3, 3)) == dt.datetime(2026, 3, 3, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert rules.local_midnight(D(2026, 3, 3)).astimezone(dt.UTC).hour == 16
