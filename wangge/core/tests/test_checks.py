"""Start-up checks: every dotted path the project loads from settings must import and be callable."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from wangge.core.checks import check_dotted_paths, check_public_base_url
from wangge.core.hooks import configured_paths
from wangge.core.links import SHORT_ALPHABET, SHORT_LENGTH, new_short_code, public_url

NOT_CALLABLE = 42


def test_the_shipped_settings_pass_and_cover_every_dotted_path_setting() -> None:
    assert check_dotted_paths(None) == []
    settings_seen = {setting.split("[")[0] for setting, _path in configured_paths()}
    assert settings_seen == {
        "WANGGE_WORKER_HOOKS",
        "WANGGE_DEMO_HOOKS",
        "WANGGE_STARTUP_HOOKS",
        "WANGGE_TRIAGE_SUGGEST",
        "WANGGE_TRIAGE_DUPLICATES",
        "WANGGE_TRIAGE_FEEDBACK",
        "NOTIFY_BACKENDS",
        "WANGGE_IMPORT_RUNNERS",
        "WANGGE_PII_LOG",
    }


def test_a_typo_or_a_non_callable_is_refused_naming_the_setting(settings: Any) -> None:
    settings.WANGGE_WORKER_HOOKS = [*settings.WANGGE_WORKER_HOOKS, "wangge.dashboards.services.rollup_refresh_recnt"]
    settings.WANGGE_TRIAGE_SUGGEST = "wangge.core.tests.test_checks.NOT_CALLABLE"
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "sms": "wangge.notifications.nowhere.SmsBackend"}
    settings.WANGGE_TRIAGE_DUPLICATES = ""  # empty turns the help off: not an error
    errors = check_dotted_paths(None)
    assert [(e.id, e.msg.split(" names ")[0]) for e in errors] == [
        ("wangge.E002", "WANGGE_WORKER_HOOKS"),
        ("wangge.E003", "WANGGE_TRIAGE_SUGGEST"),
        ("wangge.E002", "NOTIFY_BACKENDS['sms']"),
    ]
    assert "rollup_refresh_recnt" in errors[0].msg


@pytest.mark.django_db  # other apps' checks read the database (the holiday calendar)
def test_manage_py_check_refuses_a_broken_worker_hook(settings: Any) -> None:
    settings.WANGGE_WORKER_HOOKS = ["wangge.nowhere.pass"]
    with pytest.raises(SystemCheckError, match=r"wangge\.E002"):
        call_command("check")


@pytest.mark.parametrize("base", ["wangge.example.gov.cn", "ftp://wangge.example.gov.cn", "https://", "/demands"])
def test_a_public_base_url_that_is_not_absolute_http_is_refused(settings: Any, base: str) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = base
    assert [e.id for e in check_public_base_url(None)] == ["wangge.E004"]


def test_an_absolute_public_base_url_passes_and_builds_every_link(settings: Any) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.example.gov.cn/"
    assert check_public_base_url(None) == []
    assert public_url("/t/abc") == "https://wangge.example.gov.cn/t/abc"
    with pytest.raises(ValueError):
        public_url("t/abc")


def test_short_codes_are_short_distinct_and_readable() -> None:
    made = {new_short_code() for _ in range(200)}
    assert len(made) == 200
    assert all(len(c) == SHORT_LENGTH and set(c) <= set(SHORT_ALPHABET) for c in made)
