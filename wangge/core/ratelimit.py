"""Fixed-window rate limits for public endpoints (the resident pages have no account) and API keys.

One counter per client key, rate and window, shared by every process: in Redis when `REDIS_URL` is set
(INCR and EXPIRE in one MULTI/EXEC round trip), otherwise in the table `core_ratecounter` with one
upsert that adds one and reads the count back (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, PostgreSQL
and SQLite ≥ 3.35). Several limits checked together (a report counts per phone and per client address)
cost one round trip either way; a limit that counts only what succeeded reserves its place first
(`reserve_all`) and releases it when the action fails. Keys are hashed: they may hold a phone number.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from wangge.core import clock
from wangge.core.errors import WanggeError

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(WanggeError):
    """Too many requests from one client in one window."""

    status = 429
    code = "rate_limited"


def parse_rate(rate: str) -> tuple[int, int]:
    """'20/h' → (20, 3600); '5/10m' → (5, 600)."""
    count, _, period = rate.partition("/")
    period = period.strip() or "m"
    unit = period[-1]
    if unit not in _UNITS:
        raise ValueError(f"bad rate {rate!r}")
    multiple = int(period[:-1]) if period[:-1] else 1
    return int(count), multiple * _UNITS[unit]


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_proxy(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(proxies))


def client_ip(request: HttpRequest) -> str:
    """The client address: the rate limits and the login lockout (AXES_CLIENT_IP_CALLABLE) count by it.

    X-Forwarded-For is read only from a proxy we were told to trust: a peer in WANGGE_TRUSTED_PROXIES
    (the client is the right-most entry that is not itself a trusted proxy), or any peer under the older
    WANGGE_TRUST_X_FORWARDED_FOR (the last entry). Entries to the left are client-supplied and never used.
    """
    remote = str(request.META.get("REMOTE_ADDR", "") or "unknown")
    hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if h.strip()]
    proxies = tuple(getattr(settings, "WANGGE_TRUSTED_PROXIES", ()) or ())
    if proxies and _is_proxy(remote, proxies):
        for hop in reversed(hops):
            if not _is_proxy(hop, proxies):
                return hop
        return hops[0] if hops else remote
    if getattr(settings, "WANGGE_TRUST_X_FORWARDED_FOR", False) and hops:
        # The proxy appends the address it saw last; earlier entries are client-supplied.
        return hops[-1]
    return remote


@dataclass(frozen=True)
class Slot:
    """One counter: a hashed client key and window length (`name`), and the window now running (`bucket`)."""

    name: str
    window: int
    bucket: int

    @classmethod
    def of(cls, key: str, window: int) -> Slot:
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]
        return cls(f"{digest}:{window}", window, int(clock.now().timestamp()) // window)


class Counter(Protocol):
    def add(self, slots: Sequence[Slot]) -> list[int]:
        """Count one hit on each slot; the counts after it, in order."""

    def read(self, slots: Sequence[Slot]) -> list[int]:
        """The counts of the slots' running windows, without counting."""

    def release(self, slots: Sequence[Slot]) -> None:
        """Take back one hit from each slot (a reservation that was not used)."""


class DatabaseCounter:
    """The table core_ratecounter: one row per slot name, reset when a hit falls in a later window."""

    def add(self, slots: Sequence[Slot]) -> list[int]:
        unique = list(dict.fromkeys(slots))  # one statement may not update a row twice
        table = connection.ops.quote_name("core_ratecounter")
        key = connection.ops.quote_name("key")
        values: list[str] = []
        params: list[Any] = []
        for slot in unique:
            values.append("(%s, %s, 1, %s)")
            ends = dt.datetime.fromtimestamp((slot.bucket + 1) * slot.window, tz=dt.UTC)
            params += [slot.name, slot.bucket, connection.ops.adapt_datetimefield_value(ends)]
        sql = (
            f"INSERT INTO {table} ({key}, bucket, hits, expires_at) VALUES {', '.join(values)} "
            f"ON CONFLICT ({key}) DO UPDATE SET "
            f"hits = CASE WHEN {table}.bucket = excluded.bucket THEN {table}.hits + 1 ELSE 1 END, "
            f"bucket = excluded.bucket, expires_at = excluded.expires_at "
            f"RETURNING {key}, hits"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts = dict(cursor.fetchall())
        return [int(counts[slot.name]) for slot in slots]

    def release(self, slots: Sequence[Slot]) -> None:
        from django.db.models import F, Q

        from wangge.core.models import RateCounter

        match = Q()
        for slot in dict.fromkeys(slots):
            match |= Q(key=slot.name, bucket=slot.bucket)
        RateCounter.objects.filter(match, hits__gt=0).update(hits=F("hits") - 1)

    def read(self, slots: Sequence[Slot]) -> list[int]:
        from wangge.core.models import RateCounter

        rows = RateCounter.objects.filter(key__in=[s.name for s in slots]).values_list("key", "bucket", "hits")
        found = {name: (bucket, hits) for name, bucket, hits in rows}
        return [found[s.name][1] if found.get(s.name, (None, 0))[0] == s.bucket else 0 for s in slots]


class RedisCounter:
    """Redis: a key per slot and window, INCR then EXPIRE in one MULTI/EXEC (one round trip for all slots)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix

    def _key(self, slot: Slot) -> str:
        return f"{self.prefix}{slot.name}:{slot.bucket}"

    def add(self, slots: Sequence[Slot]) -> list[int]:
        import redis

        pipe = self.client.pipeline(transaction=True)
        for slot in slots:
            pipe.incr(self._key(slot))
            pipe.expire(self._key(slot), slot.window + 1)
        try:
            replies = pipe.execute()
        except redis.RedisError as exc:
            return _unreachable(exc, slots)
        return [int(n) for n in replies[0::2]]

    def release(self, slots: Sequence[Slot]) -> None:
        import redis

        pipe = self.client.pipeline(transaction=True)
        for slot in slots:
            pipe.decr(self._key(slot))
        try:
            pipe.execute()
        except redis.RedisError as exc:
            _unreachable(exc, slots)

    def read(self, slots: Sequence[Slot]) -> list[int]:
        import redis

        try:
            replies = self.client.mget([self._key(s) for s in slots])
        except redis.RedisError as exc:
            return _unreachable(exc, slots)
        return [int(n or 0) for n in replies]


def _unreachable(exc: Exception, slots: Sequence[Slot]) -> list[int]:
    # A limiter that is down lets people through (a resident's report matters more) and says so in the log.
    logger.error("rate limiter unreachable, nothing counted: %s", exc)
    return [0] * len(slots)


@functools.lru_cache(maxsize=4)
def _redis_counter(url: str, prefix: str) -> RedisCounter:
    return RedisCounter(url, prefix)


def counter() -> Counter:
    """Redis when WANGGE_RATELIMIT_REDIS_URL is set (REDIS_URL outside tests), else the database."""
    url = str(getattr(settings, "WANGGE_RATELIMIT_REDIS_URL", "") or "")
    if url:
        return _redis_counter(url, str(getattr(settings, "WANGGE_RATELIMIT_PREFIX", "wangge:rl:")))
    return DatabaseCounter()


def _add(slots: Sequence[Slot]) -> list[int]:
    return counter().add(slots)


def _read(slots: Sequence[Slot]) -> list[int]:
    return counter().read(slots)


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one request for `key`; False once `limit` is exceeded inside the current window."""
    return _add([Slot.of(key, window)])[0] <= limit


def ratelimit_prune() -> int:
    """Worker pass: delete the database counters whose window ended (Redis expires its own keys)."""
    from wangge.core.models import RateCounter

    deleted, _ = RateCounter.objects.filter(expires_at__lt=clock.now()).delete()
    return deleted


def _limited(window: int) -> RateLimited:
    minutes = max(1, window // 60)
    return RateLimited(
        f"提交太频繁，请 {minutes} 分钟后再试",
        f"Too many submissions; please try again in {minutes} minutes",
    )


def _key(request: HttpRequest, scope: str, key: str | None) -> str:
    return f"{scope}:{client_ip(request) if key is None else key}"


# One limit as the views name it: (scope, rate setting's value, key or None for the client address).
Limit = tuple[str, str, str | None]


def _slots(request: HttpRequest, limits: Iterable[Limit]) -> list[tuple[Slot, int]]:
    out = []
    for scope, rate, key in limits:
        limit, window = parse_rate(rate)
        out.append((Slot.of(_key(request, scope, key), window), limit))
    return out


def check(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """Count one request and raise RateLimited when this client (or `key`, e.g. a phone) went over `rate`."""
    [(slot, limit)] = _slots(request, [(scope, rate, key)])
    if _add([slot])[0] > limit:
        raise _limited(slot.window)


def peek_all(request: HttpRequest, limits: Iterable[Limit]) -> None:
    """Raise RateLimited when any of `limits` is used up, without counting (one round trip for all):
    for limits that count only what succeeded (`count_all` afterwards)."""
    slots = _slots(request, limits)
    for (slot, limit), used in zip(slots, _read([s for s, _ in slots]), strict=True):
        if used >= limit:
            raise _limited(slot.window)


def count_all(request: HttpRequest, limits: Iterable[Limit]) -> None:
    """Count one success against each of `limits` (after `peek_all` let it through), in one round trip."""
    _add([slot for slot, _ in _slots(request, limits)])


@dataclass(frozen=True)
class Reservation:
    """Hits counted ahead of an action that may still fail: `release()` takes them back."""

    slots: tuple[Slot, ...]

    def release(self) -> None:
        if self.slots:
            counter().release(self.slots)


def reserve_all(request: HttpRequest, limits: Iterable[Limit]) -> Reservation:
    """Count one hit against each of `limits` in one round trip and raise RateLimited (taking them back)
    when any went over: for limits that count only what succeeded, `release()` the reservation when the
    action fails. Two requests racing for the last place cannot both have it (a peek could let both by)."""
    slots = _slots(request, limits)
    reservation = Reservation(tuple(slot for slot, _ in slots))
    counts = _add(list(reservation.slots))
    for (slot, limit), used in zip(slots, counts, strict=True):
        if used > limit:
            reservation.release()
            raise _limited(slot.window)
    return reservation


def peek(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """`peek_all` for one limit."""
    peek_all(request, [(scope, rate, key)])


def count(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """`count_all` for one limit."""
    count_all(request, [(scope, rate, key)])


def ratelimit(scope: str, rate_setting: str, *, methods: Iterable[str] = ("POST",)) -> Callable[..., Any]:
    """Decorate a view: limit `methods` per client IP at the rate named by a setting ('20/h')."""
    methods = tuple(m.upper() for m in methods)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                check(request, scope, getattr(settings, rate_setting))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
