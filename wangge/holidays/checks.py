"""System check wangge.W010: the holiday calendar must cover the next 60 days.

It reads the database, so it stays quiet when the database is not there yet (before the first
`migrate`); it is not tagged `database` because then runserver, run_worker and migrate's own checks
would never show it, and those are where an operator looks.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def check_holiday_coverage(app_configs: Any, **kwargs: Any) -> list[Warning]:
    from wangge.core import clock
    from wangge.holidays.selectors import LOOKAHEAD_DAYS, coverage_gap

    try:
        missing = coverage_gap(clock.today_local(), LOOKAHEAD_DAYS)
    except DatabaseError:
        return []
    if not missing:
        return []
    years = ", ".join(str(y) for y in missing)
    return [
        Warning(
            f"节假日日历缺少 {years} 年：未来 {LOOKAHEAD_DAYS} 天内的期限将按周一至周五计算 / "
            f"the holiday calendar has no {years}: time limits in the next {LOOKAHEAD_DAYS} days "
            "will count Monday to Friday",
            hint="Import the State Council's notice: manage.py import_holidays FILE, or 后台管理 Back office › "
            "节假日 Holiday calendar › calendar years › Import a notice (see docs/holidays.md).",
            id="wangge.W010",
        )
    ]
