"""Masking and at-rest protection of personal data (phones, ID card numbers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import operator
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_ZEROS = sum(_ID_WEIGHTS) * ord("0")  # the weighted sum of the ASCII codes counts each digit from "0"


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
    if len(value) == 18 and value.isascii():
        # The usual case, no regular expression: the weighted sum over the bytes, in C (imports check 400,000
        # at once). A last character other than a digit or X never equals the check character.
        head = value[:17]
        if not head.isdigit():
            return False
        return _ID_CHECK[(sum(map(operator.mul, head.encode(), _ID_WEIGHTS)) - _ID_ZEROS) % 11] == value[17]
    if not ID_RE.match(value):
        return False
    total = sum(int(value[i]) * _ID_WEIGHTS[i] for i in range(17))  # full-width digits, which \d also matches
    return _ID_CHECK[total % 11] == value[17]


@lru_cache(maxsize=1)
def _field_key() -> bytes:
    """The 32 bytes of the Fernet key: the first half signs, the second encrypts."""
    key = settings.FIELD_ENCRYPTION_KEY
    if key:
        return base64.urlsafe_b64decode(key.encode() if isinstance(key, str) else key)
    return hashlib.sha256(("wangge-field-key:" + settings.SECRET_KEY).encode()).digest()


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_field_key()))


# Values are encrypted with AES-256-GCM (`cryptography`'s AESGCM: one call a value, the nonce and the
# tag its own), under a key derived from the field key by HKDF. Tokens carry this prefix, which no
# Fernet token can start with (":" is outside its base64 alphabet); Fernet tokens written before still
# decrypt. Fernet cost 6 µs a value (a cipher, a padder and an HMAC object each); an import encrypts 400,000.
GCM_PREFIX = "gcm1:"
_NONCE = 12


@lru_cache(maxsize=1)
def _aesgcm() -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wangge field aes-256-gcm").derive(_field_key())
    return AESGCM(key)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return encrypt_many([value])[0]


def encrypt_many(values: Sequence[str]) -> list[str]:
    """`encrypt` of each value with one AESGCM object and one read of random nonces for the batch (an import
    encrypts 400,000 ID numbers). Encryption stays the `cryptography` library's own: no home-made modes or MACs."""
    seal = _aesgcm().encrypt
    nonces = os.urandom(_NONCE * len(values))
    out = []
    for i, value in enumerate(values):
        if not value:
            out.append("")
            continue
        nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
        out.append(GCM_PREFIX + base64.urlsafe_b64encode(nonce + seal(nonce, value.encode(), None)).decode())
    return out


def decrypt(token: str) -> str:
    if not token:
        return ""
    if token.startswith(GCM_PREFIX):
        try:
            raw = base64.urlsafe_b64decode(token[len(GCM_PREFIX) :])
            return _aesgcm().decrypt(raw[:_NONCE], raw[_NONCE:], None).decode()
        except (InvalidTag, ValueError):  # ValueError: bad base64, a short token, bytes that are not UTF-8
            return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def lookup_hash(value: str) -> str:
    """Keyed hash for finding an encrypted value by equality (ID numbers), never reversible."""
    return lookup_hasher()(value)


def lookup_hasher() -> Callable[[str], str]:
    """`lookup_hash` for a batch (an import hashes 400,000 ID numbers): the settings and the keyed hash
    looked up once, each value hashed by a copy of it. Same digests as `lookup_hash`."""
    base = _lookup_mac(settings.SECRET_KEY)
    copy = base.copy

    def lookup(value: str) -> str:
        if not value:
            return ""
        mac = copy()
        mac.update(value.upper().encode())
        return mac.hexdigest()

    return lookup


@lru_cache(maxsize=4)
def _lookup_mac(secret: str) -> hmac.HMAC:
    """The keyed hash with its key taken in once; each value hashes a copy (the standard library's way)."""
    return hmac.new(("wangge-lookup:" + secret).encode(), digestmod=hashlib.sha256)
