"""Reads from a streaming replica of PostgreSQL, only where a page or job says so, never stale for its reader.

One mechanism (docs/scaling.md, "Read replica"):

- `use_replica()` (a context manager and a decorator) marks the reads a view or job may take from the
  replica: dashboards, reports, exports, public pages, Open311 lists. Everything else, and every write,
  goes to the primary (`config.routers.ReplicaRouter`).
- Reads that must see a write go to the primary anyway. A request that may have written (any method but
  GET, HEAD, OPTIONS, TRACE) leaves its client a signed cookie holding the primary's WAL position after
  it (and, for an API client, the same position in the shared cache under its key or token); while the
  client carries it, its `use_replica()` blocks read the replica only once the replica has
  replayed that position (one query per request), and the cookie is dropped as soon as it has. A job
  passes the position it must see itself (`use_replica(after=primary_position())`) and waits up to
  DATABASE_REPLICA_WAIT_SECONDS for the replica to reach it. Inside a transaction
  on the primary every read stays there too: the transaction must see its own writes.

Without DATABASE_REPLICA_URL (SQLite, or one PostgreSQL) `use_replica()` changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA_ALIAS = "replica"
PIN_COOKIE = "wangge_primary_lsn"
_PIN_SALT = "wangge.core.replica.pin"
_POLL_SECONDS = 0.02
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Who you are and what you may see is always read from the primary: sessions, users, their scopes and
# keys, the login lockout and the database cache (rate limits); a revoked scope must not live on for the
# replica's lag.
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "accounts", "axes", "contenttypes", "django_cache"})


@dataclass
class _Request:
    """The current request's pin: the primary position its client must see, and whether the replica has it."""

    wait_for: str | None
    caught_up: bool | None = None


_request: ContextVar[_Request | None] = ContextVar("wangge_replica_request", default=None)
_reading: ContextVar[bool] = ContextVar("wangge_replica_reading", default=False)


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


def _in_primary_transaction() -> bool:
    return connections[DEFAULT_DB_ALIAS].in_atomic_block


def primary_position() -> str | None:
    """The primary's WAL insert position now (every commit so far lies at or before it); None without a replica."""
    if not replica_configured():
        return None
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return str(cursor.fetchone()[0])


def replica_has(position: str) -> bool:
    """Whether the replica has replayed the primary's WAL up to `position` (a server that is not in
    recovery, such as the primary itself named as its own replica, has everything)."""
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT NOT pg_is_in_recovery() OR coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [position]
        )
        return bool(cursor.fetchone()[0])


def _replica_usable(after: str | None) -> bool:
    if not replica_configured() or _in_primary_transaction():
        return False
    state = _request.get()
    if state is not None and state.wait_for is not None:
        if state.caught_up is None:
            state.caught_up = replica_has(state.wait_for)
        if not state.caught_up:
            return False
    return after is None or _replica_reaches(after)


def _replica_reaches(position: str) -> bool:
    """Whether the replica has `position`, waiting up to DATABASE_REPLICA_WAIT_SECONDS for it (a job
    asks right after the primary wrote it: a healthy replica gets there in milliseconds)."""
    polls = int(settings.DATABASE_REPLICA_WAIT_SECONDS / _POLL_SECONDS)
    for poll in range(polls + 1):
        if replica_has(position):
            return True
        if poll < polls:
            time.sleep(_POLL_SECONDS)
    return False


@contextmanager
def use_replica(after: str | None = None) -> Iterator[None]:
    """Reads inside go to the replica, when it has replayed what this reader must see (the request's pin and
    `after`, a position from `primary_position()`, waited for a moment); otherwise, and for every write,
    to the primary."""
    token = _reading.set(_replica_usable(after))
    try:
        yield
    finally:
        _reading.reset(token)


def read_alias() -> str | None:
    """The alias a read of an app's model goes to now: None when no replica is configured."""
    if not replica_configured():
        return None
    if _reading.get() and not _in_primary_transaction():
        return REPLICA_ALIAS
    return DEFAULT_DB_ALIAS


def _credential_key(request: HttpRequest, *, form: bool = False) -> str | None:
    """The cache key of the pin of the credential a request carries (a bearer token, an `X-Api-Key` header or an
    `api_key` parameter; `form`: also a posted one, when the view has parsed the form: no body is read here)."""
    posted = request.POST.get("api_key", "") if form and "_post" in request.__dict__ else ""
    raw = (
        request.headers.get("Authorization", "")
        or request.headers.get("X-Api-Key", "")
        or request.GET.get("api_key", "")
        or posted
    ).strip()
    if not raw:
        return None
    return "wangge-replica-pin:" + hashlib.sha256(raw.encode()).hexdigest()


class ReplicaPinMiddleware:
    """Reads the client's pin before the view and leaves a new one after a request that may have written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        max_age = settings.DATABASE_REPLICA_PIN_SECONDS
        pinned = request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT, max_age=max_age)
        credential = _credential_key(request)
        if pinned is None and credential is not None:
            pinned = cache.get(credential)
        state = _Request(pinned)
        token = _request.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        position = primary_position() if request.method not in SAFE_METHODS else None
        if position is not None:
            # An API client keeps no cookie: its key or token carries the pin (hashed, in the shared cache).
            credential = credential or _credential_key(request, form=True)
            if credential is not None:
                cache.set(credential, position, timeout=max_age)
            response.set_signed_cookie(
                PIN_COOKIE,
                position,
                salt=_PIN_SALT,
                max_age=max_age,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        elif state.caught_up:
            response.delete_cookie(PIN_COOKIE, samesite="Lax")
        return response
