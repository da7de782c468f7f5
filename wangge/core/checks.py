"""System checks that refuse a dangerous configuration (after healthchecks' hc/api/apps.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Error]:
    from config.settings import DEFAULT_SECRET_KEY

    if settings.SECRET_KEY == DEFAULT_SECRET_KEY and not settings.DEBUG:
        return [
            Error(
                "SECRET_KEY is the development default while DEBUG is off / DEBUG 关闭时不得使用默认 SECRET_KEY",
                hint="Set the SECRET_KEY environment variable to a long random value.",
                id="wangge.E001",
            )
        ]
    return []
