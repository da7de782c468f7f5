"""The only place that reads the clock: tests move it with time-machine."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    return timezone.now()


def today_local() -> dt.date:
    """Today's date in the display time zone (Asia/Shanghai)."""
    return timezone.localdate(now())
