"""Settings and checks: the dangerous configuration is refused, masking works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wangge.core.masking import id_checksum_ok, mask_id_number, mask_name, mask_phone

ROOT = Path(__file__).resolve().parents[3]


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    full.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


def test_default_secret_key_refused_when_debug_off(tmp_path: Path) -> None:
    result = _check({"DEBUG": "0", "WANGGE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "wangge.E001" in result.stderr


def test_own_secret_key_accepted_when_debug_off(tmp_path: Path) -> None:
    result = _check({"DEBUG": "0", "SECRET_KEY": "x" * 60, "WANGGE_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_database_url_chooses_database() -> None:
    code = (
        "import os; os.environ['DATABASE_URL']='sqlite:////tmp/wangge-x.sqlite3';"
        "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
        " s.DATABASES['default']['OPTIONS']['transaction_mode'])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["django.db.backends.sqlite3", "/tmp/wangge-x.sqlite3", "IMMEDIATE"]
    code = (
        "import os; os.environ['DATABASE_URL']='postgres://u@127.0.0.1:5432/prov';"
        "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["django.db.backends.postgresql", "prov"]


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
