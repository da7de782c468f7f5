"""The only place that reads the clock: tests move it with time-machine.

`travel()` exists ONLY for demo generation (writing a plausible history through the real
services); tests never use it, they move the clock with time-machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_override = threading.local()


def now() -> dt.datetime:
    """Current time, timezone-aware UTC (or the instant a demo generator travelled to)."""
    to = getattr(_override, "to", None)
    return to if to is not None else timezone.now()


def today_local() -> dt.date:
    """Today's date in the display time zone (settings.TIME_ZONE)."""
    return timezone.localdate(now())


@cache
def local_tz() -> ZoneInfo:
    """The display time zone (settings.TIME_ZONE, Asia/Shanghai by default): the one place that names it.

    Working days, daily tallies and printed times are all counted in this zone; storage stays UTC.
    """
    return ZoneInfo(settings.TIME_ZONE)


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in the display time zone."""
    return value.astimezone(local_tz())


@contextlib.contextmanager
def travel(to: dt.datetime) -> Iterator[None]:
    """Make `now()` return `to` in this thread until the block ends (demo generation only; tests use time-machine).

    Inside the block `set_travel(moment)` moves the frozen instant on; blocks nest and restore.
    """
    if timezone.is_naive(to):
        raise ValueError("travel() needs a timezone-aware datetime")
    previous = getattr(_override, "to", None)
    _override.to = to
    try:
        yield
    finally:
        _override.to = previous


def set_travel(to: dt.datetime) -> None:
    """Move the instant of the current `travel()` block (demo generation only)."""
    if getattr(_override, "to", None) is None:
        raise RuntimeError("set_travel() is only allowed inside clock.travel()")
    if timezone.is_naive(to):
        raise ValueError("set_travel() needs a timezone-aware datetime")
    _override.to = to
