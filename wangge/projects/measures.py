"""Target versus achieved, and whether a project and its milestones are on time (no database access).

The rules, as published on the project pages:

- achieved is the latest cumulative figure the city has checked; percent = achieved ÷ target.
- expected share on a day = days since 1 January of the project's year ÷ days from 1 January to
  the deadline (0 before the year starts, 1 from the deadline on): a project is planned to
  progress evenly over its period.
- completed: achieved ≥ target and every milestone done; "late" when that happened after the deadline.
- late: not completed and the deadline has passed, or a milestone is past its due date and not done.
- at risk: not completed, not late, and the achieved share is more than 10 percentage points
  below the expected share (AT_RISK_MARGIN).
- on track: everything else.
- a milestone is done on time (done on or before its due date), done late, overdue (not done and
  past due) or pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import pgettext_lazy

from wangge.core.errors import render_both

AT_RISK_MARGIN = 0.10

COMPLETED = "completed"
COMPLETED_LATE = "completed_late"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
LATE = "late"

MS_DONE = "done"
MS_DONE_LATE = "done_late"
MS_OVERDUE = "overdue"
MS_PENDING = "pending"

# The label of each status, a translation (pages show the page's language; the API both).
STATUS_LABELS: dict[str, Any] = {
    COMPLETED: pgettext_lazy("project status", "completed"),
    COMPLETED_LATE: pgettext_lazy("project status", "completed late"),
    ON_TRACK: pgettext_lazy("project status", "on track"),
    AT_RISK: pgettext_lazy("project status", "at risk"),
    LATE: pgettext_lazy("project status", "late"),
    MS_DONE: pgettext_lazy("project status", "done on time"),
    MS_DONE_LATE: pgettext_lazy("project status", "done late"),
    MS_OVERDUE: pgettext_lazy("project status", "overdue"),
    MS_PENDING: pgettext_lazy("project status", "pending"),
}


def milestone_status(*, due_on: dt.date, done_on: dt.date | None, today: dt.date) -> str:
    if done_on is not None:
        return MS_DONE if done_on <= due_on else MS_DONE_LATE
    return MS_OVERDUE if today > due_on else MS_PENDING


def expected_share(*, year: int, deadline: dt.date, today: dt.date) -> float:
    """Share of the target planned by `today` when progress is even from 1 January to the deadline."""
    start = dt.date(year, 1, 1)
    if today <= start:
        return 0.0
    if today >= deadline or deadline <= start:
        return 1.0
    return (today - start).days / (deadline - start).days


@dataclass(frozen=True)
class Measure:
    """What the pages show for one project on one day."""

    target: int
    achieved: int
    share: float
    expected: float
    status: str
    milestones: list[tuple[Any, str]]

    @property
    def percent(self) -> float:
        return round(self.share * 100, 1)

    @property
    def bar_percent(self) -> int:
        """The width of a progress bar (an over-achieved target fills it, no more)."""
        return min(100, int(self.share * 100))

    @property
    def expected_percent(self) -> float:
        return round(self.expected * 100, 1)

    @property
    def label(self) -> str:
        """The status in Chinese, whatever the page's language (the API's `status_label`)."""
        return render_both(STATUS_LABELS[self.status])[0]

    @property
    def label_en(self) -> str:
        return render_both(STATUS_LABELS[self.status])[1]


def measure(
    *,
    year: int,
    target: int,
    achieved: int,
    deadline: dt.date,
    completed_on: dt.date | None,
    milestones: list[Any],
    today: dt.date,
) -> Measure:
    """The measure of one project; `milestones` are objects with `due_on` and `done_on`."""
    share = achieved / target if target else 0.0
    expected = expected_share(year=year, deadline=deadline, today=today)
    ms = [(m, milestone_status(due_on=m.due_on, done_on=m.done_on, today=today)) for m in milestones]
    all_done = all(m.done_on is not None for m in milestones)
    if achieved >= target and all_done:
        finished = max([completed_on or today, *[m.done_on for m in milestones]])
        status = COMPLETED if finished <= deadline else COMPLETED_LATE
    elif today > deadline or any(s == MS_OVERDUE for _m, s in ms):
        status = LATE
    elif share < expected - AT_RISK_MARGIN:
        status = AT_RISK
    else:
        status = ON_TRACK
    return Measure(target=target, achieved=achieved, share=share, expected=expected, status=status, milestones=ms)


def project_measure(project: Any, *, today: dt.date, milestones: list[Any] | None = None) -> Measure:
    """The measure of a LivelihoodProject (milestones read once, or passed in when prefetched)."""
    return measure(
        year=project.year,
        target=project.target,
        achieved=project.achieved,
        deadline=project.deadline,
        completed_on=project.completed_on,
        milestones=list(project.milestones.all()) if milestones is None else milestones,
        today=today,
    )
