"""Helpers shared by the triage commands: errors that speak both languages, model lookup."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from wangge.core.errors import WanggeError


def fail(exc: WanggeError) -> CommandError:
    return CommandError(str(exc))


def find_actor(username: str | None) -> Any:
    if not username:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"找不到用户 {username} / no user {username}")
    return user
