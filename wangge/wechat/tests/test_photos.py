"""Residents' WeChat photos brought into their demands by the worker, against the local WeChat server:
temporary media by id, the PicUrl when the id is gone, an expired token, a file that is no image, an
unreachable server, WeChat's three days."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from PIL import Image

from wangge.core import clock
from wangge.demands.models import Channel, Demand, DemandPhoto
from wangge.demands.services import demand_submit
from wangge.notifications.testing import Gateway
from wangge.wechat.models import PhotoState, WeChatReport
from wangge.wechat.photos import wechat_photos_fetch
from wangge.wechat.tests.test_callback import INSIDE, location, post, text
from wangge.wechat.tests.test_callback import _xml as xml

pytestmark = pytest.mark.django_db


def jpeg(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def report(tree: Any, *, media_id: str = "MEDIA-1", url: str = "", age: dt.timedelta | None = None) -> WeChatReport:
    demand = demand_submit(channel=Channel.WECHAT, title="", description="垃圾堆在路口", area=tree.grid).demand
    return WeChatReport.objects.create(
        demand=demand,
        openid="oRESIDENT0001",
        photo_media_id=media_id,
        photo_url=url,
        photo_state=PhotoState.PENDING,
        created_at=clock.now() - (age or dt.timedelta(0)),
    )


def test_a_photo_is_fetched_once_into_the_demand_as_the_residents(tree: Any, wechat_gateway: Gateway) -> None:
    wechat_gateway.wechat_media["MEDIA-1"] = jpeg()
    item = report(tree)
    assert wechat_photos_fetch() == {"fetched": 1, "failed": 0, "retry": 0}
    photo = DemandPhoto.objects.get(demand=item.demand)
    assert photo.by_resident and photo.event is not None and photo.event.is_public
    assert photo.event.action == "add_info" and photo.event.actor_kind == "resident"
    with Image.open(photo.image) as image:  # cleaned: re-encoded, same pixels' size
        assert image.size == (64, 48)
    item.refresh_from_db()
    assert item.photo_state == PhotoState.FETCHED and item.photo_attempts == 1
    assert wechat_photos_fetch() == {"fetched": 0, "failed": 0, "retry": 0}
    assert DemandPhoto.objects.filter(demand=item.demand).count() == 1
    assert len(wechat_gateway.media_gets()) == 1


def test_an_expired_token_is_refreshed_once(tree: Any, wechat_gateway: Gateway) -> None:
    wechat_gateway.wechat_media["MEDIA-1"] = jpeg()
    wechat_gateway.wechat_media["MEDIA-2"] = jpeg("blue")
    first, second = report(tree), report(tree, media_id="MEDIA-2")
    WeChatReport.objects.filter(pk=second.pk).update(photo_state=PhotoState.NONE)
    wechat_photos_fetch()
    wechat_gateway.expire_wechat_tokens()
    WeChatReport.objects.filter(pk=second.pk).update(photo_state=PhotoState.PENDING)
    assert wechat_photos_fetch()["fetched"] == 1
    assert DemandPhoto.objects.filter(demand__in=[first.demand, second.demand]).count() == 2
    assert len(wechat_gateway.wechat_gettokens()) == 2
    assert len(wechat_gateway.media_gets()) == 3  # one refused with 42001, asked again with the new token


def test_an_unknown_media_id_falls_back_to_the_picture_url(tree: Any, wechat_gateway: Gateway) -> None:
    wechat_gateway.pictures["abc"] = jpeg()
    item = report(tree, media_id="GONE", url=f"{wechat_gateway.url}/pic/abc")
    assert wechat_photos_fetch()["fetched"] == 1
    assert DemandPhoto.objects.filter(demand=item.demand).count() == 1


def test_an_unknown_media_id_without_a_picture_fails_with_wechats_reason(tree: Any, wechat_gateway: Gateway) -> None:
    item = report(tree, media_id="GONE")
    assert wechat_photos_fetch()["failed"] == 1
    item.refresh_from_db()
    assert item.photo_state == PhotoState.FAILED and "40007" in item.photo_error
    assert not DemandPhoto.objects.exists()


def test_a_file_that_is_no_image_is_refused_and_nothing_attached(tree: Any, wechat_gateway: Gateway) -> None:
    wechat_gateway.wechat_media["MEDIA-1"] = b"GIF89a but not really an image at all"
    item = report(tree)
    assert wechat_photos_fetch()["failed"] == 1
    item.refresh_from_db()
    assert item.photo_state == PhotoState.FAILED and item.photo_error.startswith("not an acceptable photo")
    assert not DemandPhoto.objects.exists() and not item.demand.events.filter(action="add_info").exists()


def test_an_unreachable_server_is_retried_later_then_given_up(tree: Any, settings: Any) -> None:
    settings.NOTIFY_WECHAT_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.WANGGE_WECHAT_APP_ID, settings.WANGGE_WECHAT_APP_SECRET = "wxapp0001", "secret"
    settings.NOTIFY_TIMEOUT = 1
    settings.WECHAT_PHOTO_MAX_ATTEMPTS = 3
    item = report(tree)
    start = clock.now()
    assert wechat_photos_fetch(now=start)["retry"] == 1
    assert wechat_photos_fetch(now=start + dt.timedelta(seconds=30)) == {"fetched": 0, "failed": 0, "retry": 0}
    assert wechat_photos_fetch(now=start + dt.timedelta(minutes=2))["retry"] == 1  # waited 1 minute
    assert wechat_photos_fetch(now=start + dt.timedelta(minutes=3)) == {"fetched": 0, "failed": 0, "retry": 0}
    assert wechat_photos_fetch(now=start + dt.timedelta(minutes=5))["failed"] == 1  # third try: given up
    item.refresh_from_db()
    assert item.photo_state == PhotoState.FAILED and item.photo_attempts == 3
    assert "cannot connect" in item.photo_error or "refused" in item.photo_error.lower()


def test_after_three_days_the_photo_is_given_up_without_asking(tree: Any, wechat_gateway: Gateway) -> None:
    wechat_gateway.wechat_media["MEDIA-1"] = jpeg()
    item = report(tree, age=dt.timedelta(days=3, minutes=1))
    assert wechat_photos_fetch()["failed"] == 1
    item.refresh_from_db()
    assert item.photo_state == PhotoState.FAILED and "three days" in item.photo_error
    assert not wechat_gateway.media_gets()


def test_a_photo_sent_through_the_callback_reaches_the_demand(
    client: Client, mapped: Any, wechat_gateway: Gateway, settings: Any
) -> None:
    settings.WANGGE_WECHAT_APP_ID = "wxapp0001"  # the callback and the API share the account
    wechat_gateway.wechat_media["MEDIA-9"] = jpeg()
    post(client, xml("image", "9001", PicUrl=f"{wechat_gateway.url}/pic/none", MediaId="MEDIA-9"))
    post(client, text("路口的井盖丢了", "9002"))
    post(client, location(*INSIDE, "9003"))
    demand = Demand.objects.get()
    assert WeChatReport.objects.get(demand=demand).photo_state == PhotoState.PENDING
    with time_machine.travel(clock.now() + dt.timedelta(seconds=5), tick=False):
        assert wechat_photos_fetch()["fetched"] == 1
    assert demand.photos.count() == 1
