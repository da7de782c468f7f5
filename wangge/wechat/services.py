"""What a message to the official account does: add to the resident's draft, file the demand, say what happened.

The callback hands over one parsed message (`Incoming`) and sends back the text returned here.
A resident sends words, a place (WeChat's location message) and maybe a photo, in any order; once
the draft has words and a place inside the county, the demand is filed through `demand_submit`.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from wangge.core import clock, geodesy
from wangge.core.errors import ValidationFailed
from wangge.core.links import public_url, short_url
from wangge.demands import routing
from wangge.demands.models import Channel, Demand
from wangge.demands.services import demand_submit
from wangge.wechat.models import PhotoState, WeChatDraft, WeChatInbound, WeChatReport

MAX_TEXT = 2000
# WeChat's location message gives GCJ-02 (as Amap and Tencent maps do); drafts keep it as sent and
# intake converts it before routing.
WECHAT_DATUM = geodesy.GCJ02
# A draft older than this is a new report: words from last week do not join today's place.
DRAFT_MINUTES = 30


@dataclass(frozen=True)
class Incoming:
    """One message of a resident, as the callback parsed it (WeChat's XML fields)."""

    openid: str
    msg_type: str
    msg_id: str = ""
    create_time: int = 0
    text: str = ""
    lat: float | None = None
    lng: float | None = None
    label: str = ""
    pic_url: str = ""
    media_id: str = ""
    event: str = ""

    @property
    def key(self) -> str:
        """WeChat's MsgId; events have none, so the sender and the second stand in."""
        return self.msg_id or f"{self.openid}:{self.create_time}:{self.event}"


@dataclass(frozen=True)
class Reply:
    """What the callback answers, and the demand this message filed (None when it filed none)."""

    text: str
    demand: Demand | None = None
    replayed: bool = False


def _zh(message: Any, params: dict[str, Any] | None = None) -> str:
    with translation.override("zh-hans"):
        text = str(message)
        return text % params if params else text


def form_link(draft: WeChatDraft | None) -> str:
    """The report page, filled with what the resident already sent (the page reads these parameters)."""
    query: dict[str, str] = {}
    if draft is not None:
        if draft.text:
            query["description"] = draft.text[:500]
        if draft.has_place:
            query["lat"], query["lng"] = f"{draft.lat:.6f}", f"{draft.lng:.6f}"
            query["datum"] = WECHAT_DATUM
        if draft.label:
            query["address"] = draft.label[:300]
    url = public_url(reverse("demands:report"))
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


def _draft(openid: str, now: dt.datetime) -> WeChatDraft:
    draft = WeChatDraft.objects.select_for_update().filter(openid=openid).first()
    minutes = int(getattr(settings, "WANGGE_WECHAT_DRAFT_MINUTES", DRAFT_MINUTES))
    if draft is None:
        return WeChatDraft(openid=openid, updated_at=now)
    if draft.updated_at < now - dt.timedelta(minutes=minutes):
        draft.text, draft.lat, draft.lng, draft.label = "", None, None, ""
        draft.photo_media_id = draft.photo_url = ""
    return draft


def _inside_county(lat: float, lng: float) -> bool:
    try:
        return routing.area_for_point(lat, lng, WECHAT_DATUM) is not None
    except ValidationFailed:
        return False


@transaction.atomic
def wechat_message_receive(*, incoming: Incoming) -> Reply:
    """Take one message of a resident and return the reply; a message WeChat sends again gets the first reply."""
    stored = WeChatInbound.objects.filter(msg_id=incoming.key[:100]).first()
    if stored is not None:
        return Reply(stored.reply, replayed=True)
    now = clock.now()
    draft = _draft(incoming.openid, now)
    demand = None
    if incoming.msg_type == "text":
        draft.text = (draft.text + "\n" + incoming.text.strip()).strip()[:MAX_TEXT]
    elif incoming.msg_type == "image":
        draft.photo_media_id, draft.photo_url = incoming.media_id[:128], incoming.pic_url[:500]
    elif incoming.msg_type == "location" and incoming.lat is not None and incoming.lng is not None:
        if not _inside_county(incoming.lat, incoming.lng):
            return _remember(
                incoming, now, _zh(_("This place is outside our county; we cannot file a demand for it here."))
            )
        draft.lat, draft.lng, draft.label = incoming.lat, incoming.lng, incoming.label[:300]
    elif incoming.msg_type == "event" and incoming.event == "subscribe":
        return _remember(
            incoming,
            now,
            _zh(
                _("Welcome. Tell us what is wrong in words and send your location; or use the form: %(link)s"),
                {"link": form_link(None)},
            ),
        )
    else:
        return _remember(
            incoming,
            now,
            _zh(
                _("Sorry, we can read only words, photos and locations here. You may also use the form: %(link)s"),
                {"link": form_link(None)},
            ),
        )
    draft.updated_at = now
    draft.save()
    if draft.text and draft.has_place:
        try:
            result = demand_submit(
                channel=Channel.WECHAT,
                title="",
                description=draft.text,
                lat=draft.lat,
                lng=draft.lng,
                datum=WECHAT_DATUM,
                address=draft.label,
                reporter_wechat_openid=incoming.openid,
                idempotency_key=f"wechat:{incoming.key}"[:128],
            )
        except ValidationFailed as exc:
            reply = _zh(
                _("We could not file it (%(error)s). Please use the form: %(link)s"),
                {"error": exc.zh, "link": form_link(draft)},
            )
            return _remember(incoming, now, reply)
        demand = result.demand
        WeChatReport.objects.get_or_create(
            demand=demand,
            defaults={
                "openid": incoming.openid,
                "photo_media_id": draft.photo_media_id,
                "photo_url": draft.photo_url,
                "photo_state": PhotoState.PENDING if (draft.photo_media_id or draft.photo_url) else PhotoState.NONE,
                "created_at": now,
            },
        )
        draft.delete()
        reply = _zh(
            _("Your demand is registered as %(code)s. Follow it here: %(link)s"),
            {"code": demand.code, "link": short_url(demand.short_code)},
        )
    elif draft.text:
        reply = _zh(
            _("Got it. Please send your location (+ → Location), or fill in the form: %(link)s"),
            {"link": form_link(draft)},
        )
    elif draft.has_place:
        reply = _zh(
            _("Got the place. Please tell us in words what is wrong, or fill in the form: %(link)s"),
            {"link": form_link(draft)},
        )
    else:
        reply = _zh(
            _("Got the photo. Please tell us in words what is wrong and send your location, or use the form: %(link)s"),
            {"link": form_link(draft)},
        )
    return _remember(incoming, now, reply, demand=demand)


def _remember(incoming: Incoming, now: dt.datetime, reply: str, *, demand: Demand | None = None) -> Reply:
    try:
        with transaction.atomic():
            WeChatInbound.objects.create(
                msg_id=incoming.key[:100],
                openid=incoming.openid,
                msg_type=incoming.msg_type[:20],
                reply=reply,
                demand=demand,
                received_at=now,
            )
    except IntegrityError:  # WeChat's retry raced the first delivery: that one's reply stands
        first = WeChatInbound.objects.filter(msg_id=incoming.key[:100]).first()
        return Reply(first.reply if first is not None else reply, replayed=True)
    return Reply(reply, demand=demand)
