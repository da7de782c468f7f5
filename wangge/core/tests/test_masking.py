"""At-rest protection: the batch encryption makes AES-GCM tokens the library itself opens, Fernet tokens of before
still decrypt; the fast checks agree with the slow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wangge.core import masking
from wangge.core.masking import decrypt, encrypt, encrypt_many, id_checksum_ok, lookup_hash, lookup_hasher

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id(rng: random.Random) -> str:
    base = "".join(rng.choice("0123456789") for _ in range(17))
    return base + "10X98765432"[sum(int(base[i]) * _W[i] for i in range(17)) % 11]


def test_batch_tokens_are_aes_gcm_tokens_of_each_value() -> None:
    rng = random.Random(7)
    values = [_id(rng) for _ in range(300)] + ["", "x", "张三", "a" * 15, "b" * 16, "c" * 17, "王" * 40]
    rng.shuffle(values)
    tokens = encrypt_many(values)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wangge field aes-256-gcm").derive(
        masking._field_key()
    )
    for value, token in zip(values, tokens, strict=True):
        if not value:
            assert token == ""
            continue
        assert token.startswith("gcm1:")
        raw = base64.urlsafe_b64decode(token[5:])
        assert AESGCM(key).decrypt(raw[:12], raw[12:], None).decode() == value  # the library checks the tag
        assert decrypt(token) == value
    assert len({t for t in tokens if t}) == len([v for v in values if v])  # every value its own nonce


def test_fernet_tokens_written_before_still_decrypt() -> None:
    fernet = Fernet(base64.urlsafe_b64encode(masking._field_key()))
    token = fernet.encrypt(b"430181199001011234").decode()
    assert decrypt(token) == "430181199001011234" and decrypt(encrypt("x")) == "x"
    assert decrypt(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")) == ""


def test_the_same_value_twice_gets_two_tokens_like_encrypt_does() -> None:
    a, b = encrypt_many(["430181199001011234", "430181199001011234"])
    assert a != b and decrypt(a) == decrypt(b) == "430181199001011234" and decrypt(encrypt("x")) == "x"


def test_a_changed_byte_is_refused_by_decrypt() -> None:
    (token,) = encrypt_many(["430181199001011234"])
    raw = bytearray(base64.urlsafe_b64decode(token[5:]))
    for i in (0, 15, len(raw) - 1):  # the nonce, the ciphertext, the tag
        changed = bytearray(raw)
        changed[i] ^= 1
        assert decrypt("gcm1:" + base64.urlsafe_b64encode(bytes(changed)).decode()) == ""
    assert decrypt("gcm1:" + base64.urlsafe_b64encode(bytes(raw[:20])).decode()) == ""
    assert decrypt("gcm1:not base64!") == ""


def test_the_checksum_agrees_with_the_plain_sum() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        value = _id(rng)
        if rng.random() < 0.5:  # a wrong check character half the time
            value = value[:17] + rng.choice("0123456789X")
        plain = value[17] == "10X98765432"[sum(int(value[i]) * _W[i] for i in range(17)) % 11]
        assert id_checksum_ok(value) is plain
    assert id_checksum_ok("１１０１０１１９９００３０７７５７Ｘ".replace("Ｘ", "X")) is id_checksum_ok(
        "11010119900307757X"
    )
    assert not id_checksum_ok("43018119900101123") and not id_checksum_ok("4301811990010112345")


def test_the_lookup_hash_follows_the_secret_key(settings: Any) -> None:
    first = lookup_hash("43018119900101123x")
    assert first == lookup_hash("43018119900101123X") and len(first) == 64
    settings.SECRET_KEY = "another key " * 5
    assert lookup_hash("43018119900101123X") != first


def test_the_lookup_hash_is_hmac_sha256_of_the_upper_cased_value(settings: Any) -> None:
    key = ("wangge-lookup:" + settings.SECRET_KEY).encode()
    for value in ("43018119900101123x", "110101199003077578", "a"):
        expected = hmac.new(key, value.upper().encode(), hashlib.sha256).hexdigest()
        assert lookup_hash(value) == expected


def test_the_batch_hasher_gives_the_lookup_hash() -> None:
    lookup = lookup_hasher()
    for value in ("43018119900101123x", "110101199003077578", "a", ""):
        assert lookup(value) == lookup_hash(value)
