"""A small cache-based rate limiter for public endpoints (the resident pages have no account).

Fixed windows counted in the default cache: cheap, good enough to stop a script flooding the
intake, and shared between processes whenever the cache is (use a shared cache in production;
the per-process local-memory cache still limits each worker).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from wangge.core import clock
from wangge.core.errors import WanggeError

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


def _cache_key(key: str, window: int) -> str:
    bucket = int(clock.now().timestamp()) // window
    # Hashed: keys may hold a phone number, which has no business sitting in a shared cache in clear.
    return f"rl:{hashlib.sha256(key.encode()).hexdigest()[:32]}:{window}:{bucket}"


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one request for `key`; False once `limit` is exceeded inside the current window."""
    cache_key = _cache_key(key, window)
    # add() is atomic where the cache backend is; the first request of a window creates it.
    if cache.add(cache_key, 1, timeout=window + 1):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def _limited(window: int) -> RateLimited:
    minutes = max(1, window // 60)
    return RateLimited(
        f"提交太频繁，请 {minutes} 分钟后再试",
        f"Too many submissions; please try again in {minutes} minutes",
    )


def _key(request: HttpRequest, scope: str, key: str | None) -> str:
    return f"{scope}:{client_ip(request) if key is None else key}"


def check(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """Count one request and raise RateLimited when this client (or `key`, e.g. a phone) went over `rate`."""
    limit, window = parse_rate(rate)
    if not hit(_key(request, scope, key), limit=limit, window=window):
        raise _limited(window)


def peek(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """Raise RateLimited when `rate` is used up, without counting: for limits that count only what succeeded."""
    limit, window = parse_rate(rate)
    if int(cache.get(_cache_key(_key(request, scope, key), window)) or 0) >= limit:
        raise _limited(window)


def count(request: HttpRequest, scope: str, rate: str, *, key: str | None = None) -> None:
    """Count one success against `rate` (after `peek` let it through)."""
    limit, window = parse_rate(rate)
    hit(_key(request, scope, key), limit=limit, window=window)


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
