"""System checks that refuse a dangerous configuration (after healthchecks' hc/api/apps.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Error]:
    if not settings.DEBUG and not getattr(settings, "SECRET_KEY_FROM_ENV", False):
        return [
            Error(
                "SECRET_KEY is not set in the environment while DEBUG is off / "
                "DEBUG 关闭时必须通过环境变量设置 SECRET_KEY",
                hint="Set the SECRET_KEY environment variable to a long random value.",
                id="wangge.E001",
            )
        ]
    return []
