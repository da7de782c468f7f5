"""API authentication: a bearer token (staff apps), an integrator's key (`X-Api-Key`), or the session (with CSRF).

A key acts through its service account, whose scope is the key's (accounts/scope.py). On top of
the scope, a key may use only the routes its permissions name: reads of a resource need
`<family>:read`, a POST to a collection `<family>:create`; moves on a demand need a person who
holds it, so keys never make them, and routes of families not listed here refuse keys.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.throttling import BaseThrottle

from wangge.accounts.models import ApiKey
from wangge.accounts.services import api_key_authenticate, api_token_authenticate
from wangge.core import clock, ratelimit
from wangge.core.errors import PermissionDenied

# First path segment under /api/v1/ → the permission family that governs it.
KEY_ROUTE_FAMILIES = {
    "demands": "demands",
    "categories": "demands",
    "areas": "registry",
    "households": "registry",
}


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


def key_permission_for(request: HttpRequest) -> str | None:
    """The permission a key needs for this API route, or None when keys may not use it at all."""
    match = getattr(request, "resolver_match", None)
    route = (match.route if match is not None else "") or request.path_info
    rest = route.split("api/v1/", 1)[-1].strip("/")
    parts = [p for p in rest.split("/") if p]
    family = KEY_ROUTE_FAMILIES.get(parts[0]) if parts else None
    if family is None:
        return None
    if request.method in ("GET", "HEAD"):
        return f"{family}:read"
    if request.method == "POST" and len(parts) == 1:
        return f"{family}:create"
    return None


def _key_hit(key: ApiKey) -> bool:
    """Count one request against the key's own budget per minute; False once it is spent."""
    return ratelimit.hit(f"apikey:{key.pk}", limit=key.rate_limit_per_minute, window=60)


def key_rate_error(key: ApiKey) -> ratelimit.RateLimited:
    return ratelimit.RateLimited(
        f"该 API 密钥每分钟最多 {key.rate_limit_per_minute} 次请求，请稍后再试",
        f"this API key is limited to {key.rate_limit_per_minute} requests a minute; try again shortly",
    )


def key_rate_check(key: ApiKey) -> None:
    """Open311's keyed requests (plain Django views): the same budget the JSON API's throttle counts."""
    if not _key_hit(key):
        raise key_rate_error(key)


class ApiKeyThrottle(BaseThrottle):
    """ninja's throttle for the JSON API: each integrator's key has its own limit per minute.

    The limit is the key's (`ApiKey.rate_limit_per_minute`), so none of ninja's fixed-rate throttles
    fits; the count is the shared fixed window of core.ratelimit under the key's name, so a key's
    JSON and Open311 requests spend one budget. Staff tokens and sessions are not counted here.
    The refusal (429) carries the one error shape; core.api reads it from `request.throttle_error`.
    """

    def allow_request(self, request: HttpRequest) -> bool:
        key = getattr(request, "api_key", None)
        if key is None or _key_hit(key):
            return True
        request.throttle_error = key_rate_error(key)  # type: ignore[attr-defined]
        return False

    def wait(self) -> float:
        # The window is the clock's minute: the budget comes back when the next one starts.
        return 60 - clock.now().timestamp() % 60


class ApiKeyAuth(APIKeyHeader):
    """An integrator's key in the `X-Api-Key` header: scoped, permission-checked, rate-limited."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not key:
            return None
        found = api_key_authenticate(key)
        if found is None:
            return None
        request.api_key = found  # type: ignore[attr-defined]  # counted by ApiKeyThrottle
        needed = key_permission_for(request)
        if needed is None or not found.allows(needed):
            if needed is None:
                raise PermissionDenied(
                    _("this API key may not use this route (it needs a staff account)"), code="key_forbidden"
                )
            raise PermissionDenied(
                _("this API key may not use this route (it needs %(permission)s)"),
                params={"permission": needed},
                code="key_forbidden",
            )
        request.user = found.account
        return found.account


class StaffSessionAuth(SessionAuth):
    """Session auth; CSRF stays on (never turned off for the API)."""


# The key comes before the session: a session check that fails CSRF ends the search with 403.
STAFF_AUTH = [TokenAuth(), ApiKeyAuth(), StaffSessionAuth()]
# Given to the NinjaAPI (config/api.py): every route, after authentication.
API_THROTTLE: list[BaseThrottle] = [ApiKeyThrottle()]
