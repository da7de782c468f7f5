"""Who is told of a move, and the outbox rows that tell them (written in the move's transaction).

Recipients come from `wangge.demands.permissions`: the staff told of a demand are exactly the
people who could hold it. Texts are gettext messages rendered in Chinese (`in_chinese`) when the
row is written: the SMS or WeChat message goes out as it was when the move happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import User
from wangge.core.links import short_url
from wangge.demands.models import WAITING_STATES, Demand, DemandEvent, DemandFollower, State
from wangge.demands.permissions import holder_candidates, verifier_candidates
from wangge.demands.services._common import _local, in_chinese
from wangge.registry.models import Area


def _staff_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat"))


def _resident_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_RESIDENT_CHANNEL", "sms"))


class Recipients(list[str]):
    """Recipients (`user:<id>`, `area:<code>`, …) and, when read with them, the WeCom ids of those users:
    `_tell_staff` then needs no second query for them."""

    wecom: dict[str, str] | None = None


def _staff_ids(*, area: Area | None = None, department_id: int | None = None) -> list[int]:
    return sorted(holder_candidates(area=area, department_id=department_id).values_list("pk", flat=True))


def _area_recipients(area: Area) -> list[str]:
    # The staff and their WeCom ids in one query (holder_candidates are active users already).
    rows = sorted(holder_candidates(area=area).values_list("pk", "wecom_userid"))
    found = Recipients([f"user:{pk}" for pk, _wecom in rows] or [f"area:{area.code}"])
    found.wecom = {f"user:{pk}": wecom for pk, wecom in rows if wecom}
    return found


def _holder_recipients(demand: Demand) -> list[str]:
    """The holding person if any, else every staff member of the holding level, else the level itself."""
    if demand.holder_user_id:
        return [f"user:{demand.holder_user_id}"]
    if demand.holder_department_id:
        ids = _staff_ids(department_id=demand.holder_department_id)
        return [f"user:{i}" for i in ids] or [f"department:{demand.holder_department.code}"]  # type: ignore[union-attr]
    if demand.holder_area_id and demand.holder_area is not None:
        return _area_recipients(demand.holder_area)
    return []


def _above_recipients(demand: Demand) -> list[str]:
    """The level above the holder: the dispatching area for a department, else the parent area."""
    if demand.holder_department_id and demand.holder_area is not None:
        return _area_recipients(demand.holder_area)
    area = demand.holder_area
    if area is not None and area.parent_id:
        parent = Area.objects.get(pk=area.parent_id)
        return _area_recipients(parent)
    return []


def _payload(demand: Demand, event: str) -> dict[str, Any]:
    return {"demand_id": demand.pk, "code": demand.code, "state": demand.state, "event": event}


WECOM_CHANNEL = "wecom"


def _wecom_ids(recipients: Iterable[str]) -> dict[str, str]:
    """The `user:<id>` recipients bound to a WeCom user id, mapped to that id (one query)."""
    ids = [int(r[5:]) for r in recipients if r.startswith("user:") and r[5:].isdigit()]
    if not ids:
        return {}
    bound = User.objects.filter(pk__in=ids, is_active=True).exclude(wecom_userid="")
    return {f"user:{pk}": wecom for pk, wecom in bound.values_list("pk", "wecom_userid")}


def _staff_url(demand: Demand) -> str:
    base = str(getattr(settings, "WANGGE_PUBLIC_BASE_URL", "")).rstrip("/")
    return base + reverse("demands:detail", args=[demand.pk])


def _textcard(demand: Demand, *, subject: str) -> dict[str, str]:
    """A WeCom text card: what, where and by when, with a button straight to the staff page of the demand."""
    waiting = demand.state in WAITING_STATES and demand.accept_due_at is not None
    due = demand.accept_due_at if waiting else demand.resolve_due_at
    place = " ".join(p for p in (demand.area.name if demand.area_id else "", demand.address) if p)
    lines = [
        ("gray", in_chinese(_("Time limit: %(due)s"), {"due": _local(due)})),
        ("normal", demand.title),
        ("normal", in_chinese(_("Code: %(code)s"), {"code": demand.code})),
        ("highlight", in_chinese(_("Place: %(place)s"), {"place": place or "—"})),
    ]
    return {
        "title": subject,
        # WeCom renders these three div classes in a card; the text is the resident's, so escaped.
        "description": "".join(f'<div class="{css}">{escape(text)}</div>' for css, text in lines),
        "url": _staff_url(demand),
        "btntxt": in_chinese(_("Details")),
    }


def _tell_staff(
    demand: Demand, recipients: Iterable[str], *, subject: str, body: str, kind: str, key: str, dedupe: bool = False
) -> None:
    """Outbox rows for staff. A message tied to one event needs no dedupe key (the event happens once, in this
    transaction); flags raised by the worker carry one, so that no retry tells anyone twice.

    Staff bound to a WeCom user id get a text card on the "wecom" channel instead; the others keep the
    staff channel. The dedupe key names the person, not the channel, so binding an id between two
    sweeps does not tell anyone twice."""
    from wangge.notifications.services import outbox_enqueue

    unique = list(dict.fromkeys(recipients))
    known = recipients.wecom if isinstance(recipients, Recipients) else None
    wecom = known if known is not None else _wecom_ids(unique)
    card = _textcard(demand, subject=subject) if wecom else None
    for recipient in unique:
        payload = _payload(demand, kind)
        channel, to = _staff_channel(), recipient
        if recipient in wecom:
            channel, to = WECOM_CHANNEL, f"wecom:{wecom[recipient]}"
            payload["textcard"] = card
        outbox_enqueue(
            channel=channel,
            recipient=to,
            subject=subject,
            body=body,
            payload=payload,
            kind=f"demand.{kind}",
            area_path=demand.area_path,
            dedupe_key=f"demand:{demand.pk}:{key}:{recipient}"[:200] if dedupe else None,
        )


def _resident_subject(demand: Demand) -> str:
    return in_chinese(_("Demand %(code)s"), {"code": demand.code})


def _with_link(body: str, short_code: str) -> str:
    # The link goes last: a phone makes it tappable, and a cut-off message still shows the words.
    return in_chinese(_("%(body)s Details: %(link)s"), {"body": body, "link": short_url(short_code)})


WECHAT_MP_CHANNEL = "wechat_mp"


def _tell_resident(demand: Demand, *, body: str, kind: str, key: str) -> None:
    """The reporter's phone gets the resident channel (SMS); a reporter from the official account (公众号)
    also gets a template message there, to `wechat:<openid>`."""
    from wangge.notifications.services import outbox_enqueue

    text = _with_link(body, demand.short_code)
    if demand.reporter_phone:
        outbox_enqueue(
            channel=_resident_channel(),
            recipient=demand.reporter_phone,
            subject=_resident_subject(demand),
            body=text,
            payload=_payload(demand, kind),
            kind=f"demand.resident.{kind}",
            area_path=demand.area_path,
        )
    if demand.reporter_wechat_openid:
        payload = _payload(demand, kind)
        payload["url"] = short_url(demand.short_code)
        outbox_enqueue(
            channel=WECHAT_MP_CHANNEL,
            recipient=f"wechat:{demand.reporter_wechat_openid}",
            subject=_resident_subject(demand),
            body=body,
            payload=payload,
            kind=f"demand.resident.{kind}",
            area_path=demand.area_path,
        )


@transaction.atomic
def demand_tell_reporter(*, demand: Demand, body: str, kind: str, dedupe_key: str, url: str = "") -> bool:
    """Tell a demand's reporter a message another app wrote (already in Chinese, ending with its own `url`):
    SMS to the phone, a template message on the official account. `dedupe_key` makes it once only.
    False when the demand has no way to reach its reporter or the message was written before."""
    from wangge.notifications.services import outbox_enqueue

    targets = []
    if demand.reporter_phone:
        targets.append((_resident_channel(), demand.reporter_phone))
    if demand.reporter_wechat_openid:
        targets.append((WECHAT_MP_CHANNEL, f"wechat:{demand.reporter_wechat_openid}"))
    written = False
    for channel, recipient in targets:
        written |= None is not outbox_enqueue(
            channel=channel,
            recipient=recipient,
            subject=_resident_subject(demand),
            body=body,
            payload={**_payload(demand, kind), "url": url} if url else _payload(demand, kind),
            kind=f"demand.resident.{kind}",
            area_path=demand.area_path,
            dedupe_key=f"{dedupe_key}|{channel}"[:200],
        )
    return written


def _tell_follower(demand: Demand, phone: str, *, body: str, kind: str) -> None:
    """One SMS (outbox row) to a follower of `demand`, like `_tell_resident` for the reporter."""
    from wangge.notifications.services import outbox_enqueue

    if not phone:
        return
    # The follower's own page (their token), not the reporter's: a follower may not rate or add information.
    follower_code = (
        DemandFollower.objects.filter(demand=demand, phone=phone).values_list("short_code", flat=True).first()
    )
    outbox_enqueue(
        channel=_resident_channel(),
        recipient=phone,
        subject=_resident_subject(demand),
        body=_with_link(body, follower_code) if follower_code else body,
        payload=_payload(demand, kind),
        kind=f"demand.follower.{kind}",
        area_path=demand.area_path,
    )


def _tell_arrival(demand: Demand, event: DemandEvent, *, why: str, recipients: list[str] | None = None) -> None:
    """Tell the new holder a demand waits for them; `why` is already in Chinese (how it got there).

    `recipients`: `_holder_recipients(demand)` read earlier by the caller (intake reads them before it numbers)."""
    _tell_staff(
        demand,
        _holder_recipients(demand) if recipients is None else recipients,
        subject=in_chinese(_("New demand to accept %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(why)s: %(title)s (%(code)s); please accept it by %(due)s."),
            {"why": why, "title": demand.title, "code": demand.code, "due": _local(demand.accept_due_at)},
        ),
        kind="arrival",
        key=f"arrival:{event.pk}",
    )


def _tell_resolved(demand: Demand, event: DemandEvent, *, result: str) -> None:
    """The demand is resolved (by its holder, or confirmed by the verifier, 核查): the resident is asked to
    rate it, and every merged duplicate's reporter and every follower hear it once."""
    short = result[:60]
    body = in_chinese(
        _("Your demand %(code)s is resolved: %(result)s. Please rate it through the tracking link."),
        {"code": demand.code, "result": short},
    )
    _tell_resident(demand, body=body, kind="resolved", key=f"resolved:{event.pk}")
    # Everyone who reported the same problem hears it once: merged duplicates' reporters, then followers.
    told = {demand.reporter_phone}
    for duplicate in Demand.objects.filter(merged_into=demand).exclude(reporter_phone=""):
        if duplicate.reporter_phone in told:
            continue
        told.add(duplicate.reporter_phone)
        _tell_resident(
            duplicate,
            body=in_chinese(
                _("The problem you reported (%(code)s) was resolved together with demand %(main)s: %(result)s."),
                {"code": duplicate.code, "main": demand.code, "result": short},
            ),
            kind="resolved",
            key=f"resolved-main:{event.pk}",
        )
    for follower in DemandFollower.objects.filter(demand=demand).order_by("id"):
        if follower.phone in told:
            continue
        told.add(follower.phone)
        _tell_follower(
            demand,
            follower.phone,
            body=in_chinese(
                _("The demand %(code)s you follow is resolved: %(result)s."), {"code": demand.code, "result": short}
            ),
            kind="resolved",
        )


def _verifier_recipients(demand: Demand) -> list[str]:
    """Who verifies the demand (`permissions.verifier_candidates`), else its grid or area itself."""
    ids = sorted(verifier_candidates(demand=demand).values_list("pk", flat=True))
    return [f"user:{i}" for i in ids] or [f"area:{demand.area.code}"]


def _tell_verifiers(demand: Demand, event: DemandEvent) -> None:
    """A resolved demand of a category that needs verification waits for a verifier (核查)."""
    assert demand.state == State.VERIFYING
    _tell_staff(
        demand,
        _verifier_recipients(demand),
        subject=in_chinese(_("Demand to verify on site %(code)s"), {"code": demand.code}),
        body=in_chinese(
            _("%(holder)s resolved the demand “%(title)s” (%(code)s); please verify it on site with a photo."),
            {"holder": demand.holder_label, "title": demand.title, "code": demand.code},
        ),
        kind="verify",
        key=f"verify:{event.pk}",
    )
