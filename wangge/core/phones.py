"""Phone numbers as people type them and as Excel stores them: one way to read, check and refuse them.

Every writer that takes a phone (intake, followers, the registry and its import, facility
directors, one-stop facts) calls `clean_phone`; forms and readers that only need to know whether
something looks like a phone use `normalise_phone` and `is_valid_phone`. Masking for lists stays
in `core.masking.mask_phone`.
"""

from __future__ import annotations

import random
import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed

# A mainland mobile (11 digits from 13–19) or a landline with its area code (010-12345678).
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# Only mobiles receive text messages.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Prefixes the demo generators draw from (real carriers' ranges, no number is meant to be anyone's).
DEMO_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip


def normalise_phone(raw: object) -> str:
    """Digits of a phone number as typed or as Excel stored it (13800001111.0); '' if empty."""
    if type(raw) is str and raw.isdigit() and raw.isascii():
        return raw  # the usual cell: nothing to strip or replace
    if raw is None:
        return ""
    if isinstance(raw, float):
        if raw != raw:  # NaN
            return ""
        raw = int(raw) if raw.is_integer() else raw
    text = str(raw).strip().replace(" ", "").replace("－", "-")
    if text.startswith("+86"):
        text = text[3:]
    return text


def is_valid_phone(phone: str) -> bool:
    """A normalised mobile or landline number."""
    return bool(PHONE_RE.match(phone))


def is_mobile(phone: str) -> bool:
    """A normalised 11-digit mobile number (the only kind an SMS reaches)."""
    return bool(MOBILE_RE.match(phone))


def clean_phone(
    raw: object,
    *,
    field: str = "phone",
    required: bool = False,
    missing: str | Promise | None = None,
) -> str:
    """The normalised phone, '' when empty and not required; else `ValidationFailed` on `field`.

    `missing` is one translatable message (`gettext_lazy`) asking for a required phone, so a page can say
    why it needs one ("so that staff can reach you"); codes are `phone_required` and `bad_phone`.
    """
    phone = normalise_phone(raw)
    if not phone:
        if required:
            ask = missing if missing is not None else _("Please give a phone number")
            raise ValidationFailed(ask, field=field, code="phone_required")
        return ""
    if not is_valid_phone(phone):
        raise ValidationFailed(
            _("The phone number %(phone)s is not valid"), params={"phone": phone}, field=field, code="bad_phone"
        )
    return phone


def demo_mobile(rng: random.Random) -> str:
    """A plausible mobile number for demo data, drawn from `rng` (seeded, so a demo is repeatable)."""
    return rng.choice(DEMO_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
