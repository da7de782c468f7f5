"""Target versus achieved and on time or late, on small hand-computed cases (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wangge.core.errors import render_both
from wangge.projects import measures as m


@dataclass
class Ms:
    due_on: dt.date
    done_on: dt.date | None = None


Y = 2026
DEADLINE = dt.date(2026, 12, 31)
JULY_2 = dt.date(2026, 7, 2)  # 182 days after 1 January; the period to the deadline is 364 days


def _measure(achieved: int, today: dt.date = JULY_2, milestones: list[Ms] | None = None, **kw: object) -> m.Measure:
    return m.measure(
        year=Y,
        target=4000,
        achieved=achieved,
        deadline=kw.get("deadline", DEADLINE),  # type: ignore[arg-type]
        completed_on=kw.get("completed_on"),  # type: ignore[arg-type]
        milestones=milestones or [],
        today=today,
    )


def test_expected_share_is_even_from_new_year_to_the_deadline() -> None:
    assert m.expected_share(year=Y, deadline=DEADLINE, today=JULY_2) == 182 / 364 == 0.5
    assert m.expected_share(year=Y, deadline=DEADLINE, today=dt.date(2025, 12, 1)) == 0.0
    assert m.expected_share(year=Y, deadline=DEADLINE, today=dt.date(2026, 1, 1)) == 0.0
    assert m.expected_share(year=Y, deadline=DEADLINE, today=DEADLINE) == 1.0
    # A deadline at the end of June: on 1 April, 90 of 180 days have gone.
    assert m.expected_share(year=Y, deadline=dt.date(2026, 6, 30), today=dt.date(2026, 4, 1)) == 90 / 180


def test_percent_and_bar() -> None:
    measure = _measure(1000)
    assert (measure.percent, measure.bar_percent, measure.expected_percent) == (25.0, 25, 50.0)
    over = _measure(4400)
    assert (over.percent, over.bar_percent) == (110.0, 100)


def test_at_risk_when_more_than_ten_points_behind_the_plan() -> None:
    # Half the period gone: 0.40 is the line (0.50 - 0.10).
    assert _measure(1000).status == m.AT_RISK  # 0.25
    assert _measure(1599).status == m.AT_RISK  # 0.39975
    assert _measure(1600).status == m.ON_TRACK  # 0.40 exactly is not behind by more than 10 points
    assert _measure(2100).status == m.ON_TRACK


def test_late_after_the_deadline_or_with_an_overdue_milestone() -> None:
    assert _measure(3999, today=dt.date(2027, 1, 1)).status == m.LATE
    trial_opening = Ms(due_on=dt.date(2026, 7, 1))  # 7月1日前试通车, not reached on 2 July
    assert _measure(3000, milestones=[trial_opening]).status == m.LATE
    # The figure is reached but the milestone is not: not completed, and late.
    assert _measure(4000, milestones=[trial_opening]).status == m.LATE
    # Before 1 July the same milestone is pending and the project on track.
    on_june_1 = _measure(1700, today=dt.date(2026, 6, 1), milestones=[trial_opening])
    assert on_june_1.status == m.ON_TRACK
    assert on_june_1.milestones[0][1] == m.MS_PENDING


def test_completed_on_time_or_late() -> None:
    assert _measure(4000, completed_on=dt.date(2026, 11, 30)).status == m.COMPLETED
    assert _measure(4000, today=dt.date(2027, 2, 1), completed_on=dt.date(2027, 1, 10)).status == m.COMPLETED_LATE
    late_milestone = Ms(due_on=dt.date(2026, 12, 1), done_on=dt.date(2027, 1, 5))
    status = _measure(4000, today=dt.date(2027, 2, 1), completed_on=dt.date(2026, 11, 1), milestones=[late_milestone])
    assert status.status == m.COMPLETED_LATE  # finished only when the last milestone was done


def test_milestone_statuses() -> None:
    due = dt.date(2026, 7, 1)
    today = dt.date(2026, 7, 10)
    assert m.milestone_status(due_on=due, done_on=dt.date(2026, 6, 28), today=today) == m.MS_DONE
    assert m.milestone_status(due_on=due, done_on=due, today=today) == m.MS_DONE
    assert m.milestone_status(due_on=due, done_on=dt.date(2026, 7, 3), today=today) == m.MS_DONE_LATE
    assert m.milestone_status(due_on=due, done_on=None, today=today) == m.MS_OVERDUE
    assert m.milestone_status(due_on=due, done_on=None, today=due) == m.MS_PENDING


def test_every_status_has_a_label_in_both_languages() -> None:
    for status in (m.COMPLETED, m.COMPLETED_LATE, m.ON_TRACK, m.AT_RISK, m.LATE):
        zh, en = render_both(m.STATUS_LABELS[status])
        assert zh and en and zh != en
