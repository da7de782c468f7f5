"""Working time of one-stop applications on the Chinese calendar.

The calendar itself (public holidays, adjusted workdays 调休) and "N working days after a start" come
from `wangge.demands.sla`, so that demands and one-stop services count the same days; this module
adds only what one-stop needs on top: a limit of 0 days (即办) and the working time elapsed.
"""

from __future__ import annotations

import datetime as dt

from wangge.demands.sla import LOCAL_TZ, add_working_days, is_workday, workday_bounds


def hours_per_day() -> float:
    open_t, close_t = workday_bounds()
    return (dt.datetime.combine(dt.date.min, close_t) - dt.datetime.combine(dt.date.min, open_t)).seconds / 3600


def due_at(start: dt.datetime, days: int) -> dt.datetime:
    """Close of the `days`-th working day after the day of `start`; 0 days (即办): close of this working day."""
    if days > 0:
        return add_working_days(start, days)
    day = start.astimezone(LOCAL_TZ).date()
    while not is_workday(day):  # handed in on a holiday: the first working day counts as "the same day"
        day += dt.timedelta(days=1)
    _, close_t = workday_bounds()
    return dt.datetime.combine(day, close_t, LOCAL_TZ).astimezone(dt.UTC)


def working_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """Hours of opening time on working days between two moments (nights, weekends, holidays excluded)."""
    if end <= start:
        return 0.0
    open_t, close_t = workday_bounds()
    local_start, local_end = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
    day = local_start.date()
    total = dt.timedelta(0)
    while day <= local_end.date():
        if is_workday(day):
            begin = max(local_start, dt.datetime.combine(day, open_t, LOCAL_TZ))
            finish = min(local_end, dt.datetime.combine(day, close_t, LOCAL_TZ))
            if finish > begin:
                total += finish - begin
        day += dt.timedelta(days=1)
    return total.total_seconds() / 3600


def working_days_between(start: dt.datetime, end: dt.datetime) -> float:
    """Elapsed working time in working days (one working day = the opening hours of one day)."""
    return working_hours_between(start, end) / hours_per_day()
