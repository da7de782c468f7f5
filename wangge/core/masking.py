"""Masking and at-rest protection of personal data (phones, ID card numbers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_phone(phone: str | None) -> str:
    """138****5678: the form shown on every list."""
    if not phone:
        return ""
    digits = phone.replace("-", "")
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 7:
        return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
    return "*" * len(digits)


def mask_id_number(value: str | None) -> str:
    """430181********1234."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_name(name: str | None) -> str:
    """张*明 / 李*: for public pages."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def id_checksum_ok(value: str) -> bool:
    if not ID_RE.match(value):
        return False
    total = sum(int(value[i]) * _ID_WEIGHTS[i] for i in range(17))
    return _ID_CHECK[total % 11] == value[17]


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if key:
        return Fernet(key.encode() if isinstance(key, str) else key)
    digest = hashlib.sha256(("wangge-field-key:" + settings.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def lookup_hash(value: str) -> str:
    """Keyed hash for finding an encrypted value by equality (ID numbers), never reversible."""
    if not value:
        return ""
    key = ("wangge-lookup:" + settings.SECRET_KEY).encode()
    return hmac.new(key, value.upper().encode(), hashlib.sha256).hexdigest()
