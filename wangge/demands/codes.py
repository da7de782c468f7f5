"""Public codes (LY-20260415-000123) and private tracking tokens.

Codes run per city prefix and local day without gaps, even under concurrency: a counter row per
day is bumped by a conditional UPDATE inside the intake transaction, which holds the row lock
until commit (PostgreSQL) or the database write lock (SQLite IMMEDIATE). A rolled-back intake
rolls its number back too, so no number is skipped.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import connection, transaction

from wangge.core import clock
from wangge.demands.models import DemandCounter


def next_code(*, day: dt.date | None = None, prefix: str | None = None) -> str:
    """The next public code for the local day; call inside the intake transaction."""
    prefix = prefix or settings.WANGGE_CITY_PREFIX
    day = day or clock.today_local()
    number = _bump(prefix, day)
    if number is None:
        # The first intake of the day makes the row; a racing twin finds it made (ignore_conflicts).
        with transaction.atomic():
            DemandCounter.objects.bulk_create([DemandCounter(prefix=prefix, day=day, last=0)], ignore_conflicts=True)
        number = _bump(prefix, day)
    assert number is not None
    return f"{prefix}-{day:%Y%m%d}-{number:06d}"


def _bump(prefix: str, day: dt.date) -> int | None:
    """Add one and read it back in one statement (UPDATE … RETURNING: SQLite 3.35+ and PostgreSQL)."""
    table = connection.ops.quote_name(DemandCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE prefix = %s AND day = %s RETURNING last", [prefix, day]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def new_tracking_token() -> str:
    """Unguessable (192 bits); residents follow their demand by it, never by a counter."""
    return secrets.token_urlsafe(24)
