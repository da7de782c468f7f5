"""Factories for tests that need an integrator's key or an Open311 submission."""

from __future__ import annotations

import secrets
from typing import Any

from wangge.accounts.models import ApiKey, KeyPermission
from wangge.accounts.services import api_key_create
from wangge.core import clock
from wangge.open311.models import Open311Submission

ALL_PERMISSIONS = tuple(KeyPermission.values)


def make_api_key(**overrides: Any) -> tuple[ApiKey, str]:
    """A key (and its raw value) with every permission over the given areas (by default none: pass some)."""
    data: dict[str, Any] = {"name": "测试密钥", "permissions": ALL_PERMISSIONS, "rate_limit_per_minute": 1000}
    data.update(overrides)
    return api_key_create(**data)


def make_submission(*, demand: Any, key: ApiKey | None = None, **overrides: Any) -> Open311Submission:
    """The Open311 record of an existing demand (as if it had come in by POST requests)."""
    data: dict[str, Any] = {"token": secrets.token_urlsafe(24), "created_at": clock.now()}
    data.update(overrides)
    return Open311Submission.objects.create(demand=demand, api_key=key, **data)
