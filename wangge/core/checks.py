"""System checks that refuse a dangerous or broken configuration (after healthchecks' hc/api/apps.py)."""

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


@register()
def check_dotted_paths(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Every hook, triage callable and notification backend named in settings imports and can be called.

    Without this a typo in WANGGE_WORKER_HOOKS shows only as a logged failure every worker pass.
    """
    from wangge.core.hooks import configured_paths, load

    errors: list[Error] = []
    for setting, path in configured_paths():
        try:
            target = load(path)
        except ImportError as exc:
            errors.append(
                Error(
                    f"{setting} names {path!r}, which does not import: {exc} / {setting} 中的 {path!r} 无法导入",
                    hint="Fix the dotted path or remove it from the setting.",
                    id="wangge.E002",
                )
            )
            continue
        if not callable(target):
            errors.append(
                Error(
                    f"{setting} names {path!r}, which is not callable / {setting} 中的 {path!r} 不可调用",
                    hint="Name a function or a class.",
                    id="wangge.E003",
                )
            )
    return errors


@register()
def check_public_base_url(app_configs: Any, **kwargs: Any) -> list[Error]:
    """QR codes and SMS links carry WANGGE_PUBLIC_BASE_URL: a link to 127.0.0.1 on a resident's phone opens nothing."""
    from wangge.core.links import is_absolute_http_url, public_base

    base = public_base()
    if not base and not settings.DEBUG:
        return [
            Error(
                "WANGGE_PUBLIC_BASE_URL is not set while DEBUG is off / DEBUG 关闭时必须设置 WANGGE_PUBLIC_BASE_URL",
                hint="Set it to the address residents open, e.g. https://wangge.example.gov.cn",
                id="wangge.E004",
            )
        ]
    if base and not is_absolute_http_url(base):
        return [
            Error(
                f"WANGGE_PUBLIC_BASE_URL {base!r} is not an absolute http(s) URL / "
                f"WANGGE_PUBLIC_BASE_URL {base!r} 不是完整的 http(s) 地址",
                hint="Give scheme and host, e.g. https://wangge.example.gov.cn (no query string).",
                id="wangge.E004",
            )
        ]
    return []


def refuse_unsafe_start() -> None:
    """Called by config/wsgi.py and config/asgi.py once Django is set up: a server started directly
    (`gunicorn config.wsgi`) never runs `manage.py check`, so the checks that refuse a dangerous
    configuration (E001 no SECRET_KEY, E004 no public address, with DEBUG off) must hold here too.
    Only these: the others may read the database, which a starting server must not need."""
    from django.core.exceptions import ImproperlyConfigured

    errors = [*check_secret_key(None), *check_public_base_url(None)]
    if errors:
        lines = "; ".join(f"{e.id}: {e.msg}" for e in errors)
        raise ImproperlyConfigured(f"refusing to serve: {lines}")
