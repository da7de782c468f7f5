"""Find my demand (查询我的诉求): a resident who lost the tracking link proves the phone by a one-time SMS code.

The pair (public code, phone) must be the demand's reporter or one of its followers. The code is sent
only when the pair exists, but the page answers the same either way, so the page cannot be used to
learn who reported what. Codes are stored as a keyed hash, expire after ten minutes, and die after
five wrong tries; the page limits how many are sent per phone and per client address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.phones import is_mobile, normalise_phone
from wangge.demands.models import Demand, DemandFollower, LookupCode
from wangge.demands.services._common import in_chinese
from wangge.demands.services.notify import _resident_channel, _resident_subject

LOOKUP_CODE_TTL = dt.timedelta(minutes=10)
LOOKUP_MAX_ATTEMPTS = 5
CODE_RE = re.compile(r"^[A-Z]{1,16}-\d{8}-\d{6}$")


@dataclass(frozen=True)
class LookupOutcome:
    """`path` is the tracking page to open on success; otherwise `problem` says why: "wrong" (also an unknown
    pair, an expired or a used code: the answer must not tell them apart) or "exhausted" (too many tries)."""

    path: str = ""
    problem: str = ""


def normalise_code(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def _pair(code: str, phone: str) -> tuple[Demand, str] | None:
    """The demand `code` and the tracking page of `phone` on it (reporter's or follower's), if that phone is on it."""
    if not CODE_RE.match(code) or not phone:
        return None
    demand = Demand.objects.filter(code=code).first()
    if demand is None:
        return None
    if demand.reporter_phone and hmac.compare_digest(demand.reporter_phone.encode(), phone.encode()):
        return demand, reverse("demands:track", args=[demand.tracking_token])
    follower = DemandFollower.objects.filter(demand=demand, phone=phone).first()
    if follower is not None:
        return demand, reverse("demands:follow_track", args=[follower.token])
    return None


def _hash(*, demand_id: int, phone: str, otp: str) -> str:
    message = f"wangge-lookup:{demand_id}:{phone}:{otp}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def lookup_code_send(*, code: str, phone: str) -> LookupCode | None:
    """Text a 6-digit code to `phone` when it reported or follows demand `code`; None (and nothing sent) otherwise.

    Callers must answer the visitor the same whatever this returns.
    """
    from wangge.notifications.services import outbox_enqueue

    phone = normalise_phone(phone)
    pair = _pair(normalise_code(code), phone)
    if pair is None or not is_mobile(phone):
        return None
    demand, _path = pair
    now = clock.now()
    # Only the newest code counts: an older one still in someone's inbox stops working.
    LookupCode.objects.filter(demand=demand, phone=phone, used_at__isnull=True).update(used_at=now)
    otp = f"{secrets.randbelow(1_000_000):06d}"
    row = LookupCode.objects.create(
        demand=demand,
        phone=phone,
        code_hash=_hash(demand_id=demand.pk, phone=phone, otp=otp),
        created_at=now,
        expires_at=now + LOOKUP_CODE_TTL,
    )
    minutes = int(LOOKUP_CODE_TTL.total_seconds() // 60)
    outbox_enqueue(
        channel=_resident_channel(),
        recipient=phone,
        subject=_resident_subject(demand),
        body=in_chinese(
            _("Your code to view demand %(code)s is %(otp)s, valid for %(minutes)s minutes. Do not share it."),
            {"code": demand.code, "otp": otp, "minutes": minutes},
        ),
        payload={"demand_id": demand.pk, "code": demand.code, "event": "otp"},
        kind="otp",
        area_path=demand.area_path,
    )
    return row


@transaction.atomic
def lookup_code_verify(*, code: str, phone: str, otp: str) -> LookupOutcome:
    """Check the code typed for (demand code, phone): the tracking page on success, else why not.

    A wrong try is counted and kept (this returns rather than raises, so the count is not rolled back).
    """
    phone = normalise_phone(phone)
    pair = _pair(normalise_code(code), phone)
    if pair is None:
        return LookupOutcome(problem="wrong")
    demand, path = pair
    now = clock.now()
    row = (
        LookupCode.objects.select_for_update()
        .filter(demand=demand, phone=phone, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None or row.expires_at <= now:
        return LookupOutcome(problem="wrong")
    if row.attempts >= LOOKUP_MAX_ATTEMPTS:
        return LookupOutcome(problem="exhausted")
    typed = (otp or "").strip()
    if not hmac.compare_digest(row.code_hash, _hash(demand_id=demand.pk, phone=phone, otp=typed)):
        row.attempts += 1
        row.save(update_fields=["attempts"])
        return LookupOutcome(problem="exhausted" if row.attempts >= LOOKUP_MAX_ATTEMPTS else "wrong")
    row.used_at = now
    row.save(update_fields=["used_at"])
    return LookupOutcome(path=path)
