"""Settings and checks: the dangerous configuration is refused, masking works."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from config.settings import env_bool
from wangge.core.masking import id_checksum_ok, mask_id_number, mask_name, mask_phone

SETTINGS_FILE = Path(__file__).resolve().parents[3] / "config" / "settings.py"


def _settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, Any]:
    """The settings file evaluated afresh in this process under `env` (no `manage.py` subprocess:
    starting one cost seconds per test)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def _check_with(values: dict[str, Any]) -> None:
    """`manage.py check` in process with the security-relevant settings a run would have."""
    keys = (
        "DEBUG",
        "SECRET_KEY",
        "SECRET_KEY_FROM_ENV",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "WANGGE_PUBLIC_BASE_URL",
    )
    with override_settings(**{k: values[k] for k in keys}):
        call_command("check", verbosity=0)


@pytest.mark.django_db  # the holiday coverage check (wangge.W010) reads the calendar
def test_default_secret_key_refused_when_debug_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = _settings_from(monkeypatch, {"DEBUG": "0", "WANGGE_VAR_DIR": str(tmp_path)})
    assert values["DEBUG"] is False and values["SECRET_KEY_FROM_ENV"] is False
    with pytest.raises(SystemCheckError) as refused:
        _check_with(values)
    assert "wangge.E001" in str(refused.value)


@pytest.mark.django_db  # the holiday coverage check (wangge.W010) reads the calendar
def test_own_secret_key_accepted_when_debug_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "WANGGE_VAR_DIR": str(tmp_path),
        "WANGGE_PUBLIC_BASE_URL": "https://wangge.example.gov.cn",
    }
    values = _settings_from(monkeypatch, env)
    assert values["DEBUG"] is False and values["SECRET_KEY"] == "x" * 60
    _check_with(values)  # raises SystemCheckError on any error


@pytest.mark.django_db  # the holiday coverage check (wangge.W010) reads the calendar
def test_debug_off_without_public_base_url_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "WANGGE_VAR_DIR": str(tmp_path)}
    values = _settings_from(monkeypatch, env)
    assert values["WANGGE_PUBLIC_BASE_URL"] == ""
    with pytest.raises(SystemCheckError) as refused:
        _check_with(values)
    assert "wangge.E004" in str(refused.value)


def test_debug_keeps_the_local_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _settings_from(monkeypatch, {"DEBUG": "1"})
    assert values["WANGGE_PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"


def test_database_url_chooses_database(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _settings_from(monkeypatch, {"DATABASE_URL": "sqlite:////tmp/wangge-x.sqlite3"})
    db = values["DATABASES"]["default"]
    assert [db["ENGINE"], db["NAME"], db["OPTIONS"]["transaction_mode"]] == [
        "django.db.backends.sqlite3",
        "/tmp/wangge-x.sqlite3",
        "IMMEDIATE",
    ]
    values = _settings_from(monkeypatch, {"DATABASE_URL": "postgres://u@127.0.0.1:5432/prov"})
    db = values["DATABASES"]["default"]
    assert [db["ENGINE"], db["NAME"]] == ["wangge.core.postgresql", "prov"]  # Django's, for partitioned tables


def test_postgresql_keeps_its_connections_and_sqlite_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    pg = _settings_from(monkeypatch, {"DATABASE_URL": "postgres://u@127.0.0.1:5432/prov"})["DATABASES"]["default"]
    assert (pg["CONN_MAX_AGE"], pg["CONN_HEALTH_CHECKS"]) == (600, True)
    lite = _settings_from(monkeypatch, {"DATABASE_URL": "sqlite:////tmp/wangge-x.sqlite3"})["DATABASES"]["default"]
    assert lite["CONN_MAX_AGE"] == 0
    chosen = _settings_from(
        monkeypatch,
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/prov", "CONN_MAX_AGE": "0", "CONN_HEALTH_CHECKS": "0"},
    )["DATABASES"]["default"]
    assert (chosen["CONN_MAX_AGE"], chosen["CONN_HEALTH_CHECKS"]) == (0, False)


def test_the_rate_limiter_uses_redis_when_it_is_configured_outside_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_VERSION", raising=False)
    values = _settings_from(monkeypatch, {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert values["WANGGE_RATELIMIT_REDIS_URL"] == "redis://127.0.0.1:6379/0"
    monkeypatch.delenv("REDIS_URL")
    assert _settings_from(monkeypatch, {})["WANGGE_RATELIMIT_REDIS_URL"] == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_yes_no_words(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("WANGGE_SOME_FLAG", raw)
    assert env_bool("WANGGE_SOME_FLAG", not expected) is expected


def test_env_bool_unset_gives_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANGGE_SOME_FLAG", raising=False)
    assert env_bool("WANGGE_SOME_FLAG", True) is True
    assert env_bool("WANGGE_SOME_FLAG", False) is False


@pytest.mark.parametrize("raw", ["flase", "", "2", "enabled", "y"])
def test_env_bool_refuses_an_unknown_value(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("WANGGE_SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_bool("WANGGE_SOME_FLAG", False)
    message = str(refused.value)
    assert "WANGGE_SOME_FLAG" in message
    for word in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        assert word in message.split("use one of:")[1]


def test_a_misspelt_debug_stops_the_settings_from_loading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG='flase'"):
        _settings_from(monkeypatch, {"DEBUG": "flase", "WANGGE_VAR_DIR": str(tmp_path)})


def test_time_zone_and_language(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.USE_TZ and settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in settings.LANGUAGES


def test_masking() -> None:
    assert mask_phone("13800001111") == "138****1111"
    assert mask_phone("") == ""
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_name("张建国") == "张*国"
    assert id_checksum_ok("11010519491231002X")
    assert not id_checksum_ok("110105194912310021")


def test_pages_are_chinese_unless_english_is_chosen(db) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = client.get("/accounts/login/").content.decode()
    assert "登录" in body
    client.cookies["django_language"] = "en"
    body = client.get("/accounts/login/").content.decode()
    assert "Log in" in body and "登录" not in body.split("<body", 1)[1].split("</form>", 1)[0]


def _wsgi_import(tmp_path: Path, **env: str) -> Any:
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    base.update(
        {"DEBUG": "0", "WANGGE_VAR_DIR": str(tmp_path), "WANGGE_PUBLIC_BASE_URL": "https://wangge.example.gov.cn"}
    )
    base.update(env)
    root = SETTINGS_FILE.parents[1]
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=root, env=base, capture_output=True, text=True, timeout=120
    )


def test_gunicorn_importing_the_wsgi_app_is_refused_without_a_secret_key(tmp_path: Path) -> None:
    # `gunicorn config.wsgi` never runs manage.py check: the refusal must hold at import of the app.
    refused = _wsgi_import(tmp_path)
    assert refused.returncode != 0 and "wangge.E001" in refused.stderr, refused.stderr[-2000:]
    served = _wsgi_import(tmp_path, SECRET_KEY="k" * 60)
    assert served.returncode == 0, served.stderr[-2000:]


def test_deploy_check_has_no_hsts_or_https_redirect_warning_with_debug_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from django.core.checks import run_checks

    env = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "WANGGE_VAR_DIR": str(tmp_path)}
    values = _settings_from(monkeypatch, env)
    keys = [k for k in values if k.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_"))] + ["DEBUG"]
    with override_settings(**{k: values[k] for k in keys}):
        ids = {m.id for m in run_checks(include_deployment_checks=True, tags=["security"])}
    assert not ids & {"security.W004", "security.W008", "security.W012", "security.W016", "security.W018"}, ids
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000 and values["SECURE_SSL_REDIRECT"] is True
    assert "SECURE_PROXY_SSL_HEADER" not in values  # no proxy named: X-Forwarded-Proto is not believed
    behind = _settings_from(monkeypatch, {**env, "WANGGE_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert behind["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert _settings_from(monkeypatch, {"DEBUG": "1"})["SECURE_SSL_REDIRECT"] is False  # runserver stays on http


def test_a_trusted_proxy_that_is_not_an_address_stops_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="WANGGE_TRUSTED_PROXIES"):
        _settings_from(monkeypatch, {"WANGGE_TRUSTED_PROXIES": "10.0.0.1,proxy.local"})


def test_postgresql_reuses_plans_unless_told_not_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sqlite = _settings_from(monkeypatch, {"WANGGE_VAR_DIR": str(tmp_path)})["DATABASES"]["default"]
    assert "server_side_binding" not in sqlite["OPTIONS"]
    base = {"DATABASE_URL": "postgres://wangge@db.example:5432/wangge", "WANGGE_VAR_DIR": str(tmp_path)}
    options = _settings_from(monkeypatch, base)["DATABASES"]["default"]["OPTIONS"]
    assert options == {"server_side_binding": True, "prepare_threshold": 5}
    off = _settings_from(monkeypatch, {**base, "DATABASE_PREPARE_THRESHOLD": "off"})["DATABASES"]["default"]
    assert off["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": None}
    client = _settings_from(monkeypatch, {**base, "DATABASE_SERVER_SIDE_BINDING": "0"})["DATABASES"]["default"]
    assert client["OPTIONS"] == {}
    with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
        _settings_from(monkeypatch, {**base, "DATABASE_PREPARE_THRESHOLD": "five"})
