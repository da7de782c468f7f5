"""Public codes (LY-20260415-000123) and private tracking tokens.

Codes run per city prefix and local day without gaps, even under concurrency: a counter row per
day is bumped by a conditional UPDATE inside the intake transaction, which holds the row lock
until commit (PostgreSQL) or the database write lock (SQLite IMMEDIATE). A rolled-back intake
rolls its number back too, so no number is skipped.

Every intake of the city waits for that one row, so on PostgreSQL intake takes it last: the demand
is inserted under a provisional code (`provisional`), its messages are written with that code too, and
`number` bumps the counter, writes the code into the demand row and into those outbox rows in one
statement just before the commit: the row is locked for that statement and the commit, nothing else.
SQLite has no row locks (a write transaction holds the whole database from its first statement), so
there the number is taken before the insert, as one statement too.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from wangge.core import clock
from wangge.demands.models import Demand, DemandCounter
from wangge.notifications.models import OutboxMessage


def _numbers_last() -> bool:
    return connection.vendor == "postgresql"


def provisional(demand: Demand) -> None:
    """Give a demand about to be inserted its code: the final one on SQLite, a unique placeholder on
    PostgreSQL that `number` replaces in the same transaction (it is never committed)."""
    if _numbers_last():
        demand.code = "~" + demand.tracking_token[:31]
    else:
        demand.code = next_code()


def number(demand: Demand, *, idempotency_key: str | None = None, messages: Sequence[int] = ()) -> int | None:
    """Give the inserted demand its public code; call last in the intake transaction (see the module).

    `messages`: ids of outbox rows written in this transaction under the provisional code; the same
    statement puts the code in their subject, body and payload.

    With an idempotency key on PostgreSQL, the same statement first claims the key (an advisory lock
    held to commit, then a look for another demand with it: `wangge_idempotency_claim`, migration
    demands 0016); when one exists, nothing is numbered and its id comes back, for the caller to roll
    back and answer with it. The key is unique only together with the month there (partitions), so
    this lock, not the index, keeps two racing intakes with one key to one demand.
    """
    if not _numbers_last():
        return None
    prefix, day = settings.WANGGE_CITY_PREFIX, clock.today_local()
    fix = (demand.code, list(messages))
    code, existing = _bump_into(demand.pk, prefix, day, idempotency_key, fix)
    if code is None and existing is None:
        _make_counter(prefix, day)
        code, existing = _bump_into(demand.pk, prefix, day, idempotency_key, fix)
    if existing is not None:
        return existing
    assert code is not None
    demand.code = code
    return None


def next_code(*, day: dt.date | None = None, prefix: str | None = None) -> str:
    """The next public code for the local day; call inside the intake transaction."""
    prefix = prefix or settings.WANGGE_CITY_PREFIX
    day = day or clock.today_local()
    number = _bump(prefix, day)
    if number is None:
        _make_counter(prefix, day)
        number = _bump(prefix, day)
    assert number is not None
    return f"{prefix}-{day:%Y%m%d}-{number:06d}"


def _make_counter(prefix: str, day: dt.date) -> None:
    # The first intake of the day makes the row; a racing twin finds it made (ignore_conflicts).
    with transaction.atomic():
        DemandCounter.objects.bulk_create([DemandCounter(prefix=prefix, day=day, last=0)], ignore_conflicts=True)


def _bump(prefix: str, day: dt.date) -> int | None:
    """Add one and read it back in one statement (UPDATE … RETURNING: SQLite 3.35+ and PostgreSQL)."""
    table = connection.ops.quote_name(DemandCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE prefix = %s AND day = %s RETURNING last", [prefix, day]
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _bump_into(
    pk: int, prefix: str, day: dt.date, key: str | None, fix: tuple[str, list[int]]
) -> tuple[str | None, int | None]:
    """PostgreSQL: add one to the day's counter and write the code into demand `pk`, in one statement;
    with `key`, only when no other demand holds it (else that demand's id, and nothing written).
    `fix`: the provisional code and the outbox rows whose texts carry it, given the code as well."""
    counter = connection.ops.quote_name(DemandCounter._meta.db_table)
    demands = connection.ops.quote_name(Demand._meta.db_table)
    outbox = connection.ops.quote_name(OutboxMessage._meta.db_table)
    claim = (
        "SELECT wangge_idempotency_claim(%s, %s) AS existing" if key is not None else "SELECT NULL::bigint AS existing"
    )
    params: list[Any] = [key, pk] if key is not None else []
    placeholder, message_ids = fix
    fixes: list[Any] = [placeholder, placeholder, placeholder, message_ids]
    # The provisional code is "~" and 31 characters of the demand's random token ([A-Za-z0-9_-]): it
    # stands nowhere but where intake wrote it, and needs no escaping in the JSON payload.
    messages = (
        f", told AS (UPDATE {outbox} SET subject = replace(subject, %s, coded.code), "
        "body = replace(body, %s, coded.code), payload = replace(payload::text, %s, coded.code)::jsonb "
        f"FROM coded WHERE {outbox}.id = ANY(%s)) "
        if message_ids
        else " "
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH claim AS ({claim}), "
            f"bumped AS (UPDATE {counter} SET last = last + 1 FROM claim "
            f"WHERE claim.existing IS NULL AND prefix = %s AND day = %s RETURNING last), "
            f"coded AS (UPDATE {demands} "
            "SET code = %s || lpad(bumped.last::text, greatest(6, length(bumped.last::text)), '0') "
            f"FROM bumped WHERE {demands}.id = %s RETURNING {demands}.code)"
            f"{messages}"
            "SELECT (SELECT code FROM coded), (SELECT existing FROM claim)",
            [
                *params,
                prefix,
                day,
                f"{prefix}-{day:%Y%m%d}-",
                pk,
                *(fixes if message_ids else []),
            ],
        )
        row = cursor.fetchone()
    return (str(row[0]) if row[0] is not None else None, int(row[1]) if row[1] is not None else None)


def new_tracking_token() -> str:
    """Unguessable (192 bits); residents follow their demand by it, never by a counter."""
    return secrets.token_urlsafe(24)
