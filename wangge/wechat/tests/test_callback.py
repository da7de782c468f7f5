"""The official account's callback, signed and (in safe mode) encrypted the way WeChat does it, and the
template messages a resident who reported there gets, through the worker's outbox pass to a local server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import urllib.parse
from typing import Any

import pytest
import time_machine
import xmltodict
from django.core.management import call_command
from django.test import Client
from wechatpy.crypto import WeChatCrypto

from wangge.accounts.models import Role
from wangge.demands import routing
from wangge.demands.models import Channel, Demand
from wangge.demands.services import demand_accept, demand_resolve
from wangge.notifications.models import OutboxMessage
from wangge.notifications.services import outbox_pass
from wangge.notifications.testing import Gateway
from wangge.wechat.models import WeChatDraft, WeChatInbound, WeChatReport
from wangge.wechat.tests.conftest import APP_ID, TOKEN, square

pytestmark = pytest.mark.django_db

OPENID = "oRESIDENT0001"
URL = "/wechat/callback/"
INSIDE = (28.1, 113.2)  # in the grid of the tree
OUTSIDE = (31.2, 121.5)


def _signed(extra: dict[str, str] | None = None, *, token: str = TOKEN) -> dict[str, str]:
    """The query WeChat adds: sha1 of the sorted token, timestamp and nonce (computed here independently)."""
    timestamp, nonce = "1765000000", "n0nce42"
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **(extra or {})}


def _xml(msg_type: str, msg_id: str, openid: str = OPENID, **fields: Any) -> str:
    inner = "".join(
        f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in fields.items()
    )
    return (
        f"<xml><ToUserName><![CDATA[gh_county]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1765000000</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{inner}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def text(content: str, msg_id: str, openid: str = OPENID) -> str:
    return _xml("text", msg_id, openid, Content=content)


def location(lat: float, lng: float, msg_id: str, label: str = "金沙路12号") -> str:
    return _xml("location", msg_id, Location_X=lat, Location_Y=lng, Scale=15, Label=label)


def post(client: Client, body: str, query: dict[str, str] | None = None) -> Any:
    return client.post(URL + "?" + urllib.parse.urlencode(query or _signed()), body, content_type="text/xml")


def reply_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    return str(xmltodict.parse(response.content)["xml"]["Content"])


def test_get_echoes_with_a_good_signature_and_refuses_a_forged_one(client: Client, mapped: Any) -> None:
    ok = client.get(URL, _signed({"echostr": "5837397520620387"}))
    assert ok.status_code == 200 and ok.content == b"5837397520620387"
    forged = client.get(URL, _signed({"echostr": "1"}, token="not-the-token"))
    assert forged.status_code == 403


def test_a_forged_post_stores_nothing(client: Client, mapped: Any) -> None:
    response = post(client, text("路灯坏了", "1001"), _signed(token="not-the-token"))
    assert response.status_code == 403
    assert not WeChatInbound.objects.exists() and not WeChatDraft.objects.exists()


def test_an_oversized_body_is_413(client: Client, mapped: Any) -> None:
    response = post(client, text("很" * 30000, "1002"))
    assert response.status_code == 413
    assert not WeChatInbound.objects.exists()


def test_text_then_location_files_one_demand_and_replies_with_code_and_link(client: Client, mapped: Any) -> None:
    first = reply_of(post(client, text("金沙路路灯坏了三天", "2001")))
    assert "位置" in first and "https://wangge.example.cn/demands/report/?" in first
    assert not Demand.objects.exists()
    answer = reply_of(post(client, location(*INSIDE, "2002")))
    demand = Demand.objects.get()
    assert demand.channel == Channel.WECHAT and demand.reporter_wechat_openid == OPENID
    assert demand.area_id == mapped.grid.pk and demand.description == "金沙路路灯坏了三天"
    assert demand.address == "金沙路12号"
    assert demand.events.get().actor_kind == "resident"  # the resident filed it, not the system
    assert demand.code in answer and f"https://wangge.example.cn/t/{demand.short_code}" in answer
    assert WeChatReport.objects.get(demand=demand).openid == OPENID
    assert not WeChatDraft.objects.exists()  # the next message starts a new report


def test_a_photo_is_kept_by_reference_on_the_report(client: Client, mapped: Any) -> None:
    photo = _xml("image", "3001", PicUrl="http://mmbiz.qpic.cn/abc/0", MediaId="MEDIA-1")
    assert "文字" in reply_of(post(client, photo))
    draft = WeChatDraft.objects.get()
    assert (draft.photo_media_id, draft.photo_url) == ("MEDIA-1", "http://mmbiz.qpic.cn/abc/0")
    post(client, text("垃圾没人清", "3002"))
    post(client, location(*INSIDE, "3003"))
    report = WeChatReport.objects.get()
    assert report.photo_media_id == "MEDIA-1" and report.photo_url == "http://mmbiz.qpic.cn/abc/0"


def test_a_replayed_msgid_answers_the_same_and_files_nothing_new(client: Client, mapped: Any) -> None:
    post(client, text("井盖丢了", "4001"))
    first = reply_of(post(client, location(*INSIDE, "4002")))
    again = reply_of(post(client, location(*INSIDE, "4002")))
    assert again == first
    assert Demand.objects.count() == 1 and WeChatInbound.objects.filter(msg_id="4002").count() == 1
    assert not WeChatDraft.objects.exists()


def test_text_only_replies_with_a_prefilled_form_link(client: Client, mapped: Any) -> None:
    answer = reply_of(post(client, text("楼道灯不亮", "5001")))
    link = answer[answer.index("https://") :].split()[0]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert query == {"description": "楼道灯不亮"}
    page = client.get(urllib.parse.urlsplit(link).path, query)
    assert page.status_code == 200 and "楼道灯不亮" in page.content.decode()


def test_a_location_outside_the_city_is_refused_and_nothing_filed(client: Client, mapped: Any) -> None:
    post(client, text("路面塌陷", "6001"))
    answer = reply_of(post(client, location(*OUTSIDE, "6002")))
    assert "不在本县" in answer
    assert not Demand.objects.exists()
    assert WeChatDraft.objects.get().lat is None


def test_an_unsupported_message_gets_a_polite_reply(client: Client, mapped: Any) -> None:
    answer = reply_of(post(client, _xml("voice", "7001", MediaId="V1", Format="amr")))
    assert "抱歉" in answer and not WeChatDraft.objects.exists()


def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(client: Client, mapped: Any, settings: Any) -> None:
    aes_key = base64.b64encode(os.urandom(32)).decode()[:-1]
    settings.WANGGE_WECHAT_AES_KEY = aes_key
    crypto = WeChatCrypto(TOKEN, aes_key, APP_ID)  # what WeChat's side holds
    query = _signed()
    sealed = crypto.encrypt_message(text("路灯坏了", "8001"), query["nonce"], query["timestamp"])
    msg_signature = xmltodict.parse(sealed)["xml"]["MsgSignature"]
    encrypted = xmltodict.parse(sealed)["xml"]["Encrypt"]
    body = f"<xml><ToUserName><![CDATA[gh_county]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    response = post(client, body, {**query, "encrypt_type": "aes", "msg_signature": msg_signature})
    assert response.status_code == 200
    assert b"<Content>" not in response.content  # the reply is sealed too
    opened = crypto.decrypt_message(response.content, *_reply_signature(response.content))
    assert "位置" in str(xmltodict.parse(opened)["xml"]["Content"])
    assert WeChatDraft.objects.get().text == "路灯坏了"
    # A wrong msg_signature (or a plain body) is refused in safe mode, and stores nothing.
    forged = post(client, body.replace("8001", "x"), {**query, "encrypt_type": "aes", "msg_signature": "0" * 40})
    plain = post(client, text("明文", "8002"))
    assert forged.status_code == 403 and plain.status_code == 403
    assert WeChatInbound.objects.count() == 1


def test_the_sealed_reply_follows_wechats_documented_format(client: Client, mapped: Any, settings: Any) -> None:
    """Opened by hand, not by wechatpy: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = its first 16
    bytes, PKCS#7 to 32 bytes; plain = 16 random bytes, 4-byte big-endian length, the XML, the app id;
    MsgSignature = sha1 of the sorted token, timestamp, nonce and Encrypt."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    aes_key = base64.b64encode(os.urandom(32)).decode()[:-1]
    settings.WANGGE_WECHAT_AES_KEY = aes_key
    crypto = WeChatCrypto(TOKEN, aes_key, APP_ID)
    query = _signed()
    sealed = xmltodict.parse(crypto.encrypt_message(text("路灯坏了", "8101"), query["nonce"], query["timestamp"]))
    body = f"<xml><Encrypt><![CDATA[{sealed['xml']['Encrypt']}]]></Encrypt></xml>"
    response = post(client, body, {**query, "encrypt_type": "aes", "msg_signature": sealed["xml"]["MsgSignature"]})
    reply = xmltodict.parse(response.content)["xml"]
    parts = sorted([TOKEN, reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]])
    assert reply["MsgSignature"] == hashlib.sha1("".join(parts).encode()).hexdigest()
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(reply["Encrypt"])) + decryptor.finalize()
    plain = padded[: -padded[-1]]
    length = int.from_bytes(plain[16:20], "big")
    assert plain[20 + length :] == APP_ID.encode()
    assert "位置" in str(xmltodict.parse(plain[20 : 20 + length])["xml"]["Content"])


def _reply_signature(content: bytes) -> tuple[str, str, str]:
    data = xmltodict.parse(content)["xml"]
    return data["MsgSignature"], data["TimeStamp"], data["Nonce"]


def test_template_messages_on_accept_and_resolve_through_the_outbox_pass(
    client: Client, mapped: Any, personas: Any, wechat_gateway: Gateway
) -> None:
    post(client, text("金沙路路灯坏了", "9001"))
    post(client, location(*INSIDE, "9002"))
    demand = Demand.objects.get()
    leader = personas[Role.GRID_LEADER]
    demand = demand_accept(demand=demand, actor=leader)
    demand_resolve(demand=demand, actor=leader, result="已更换灯泡")
    rows = OutboxMessage.objects.filter(channel="wechat_mp").order_by("pk")
    assert [r.kind for r in rows] == [
        "demand.resident.submitted",
        "demand.resident.accepted",
        "demand.resident.resolved",
    ]
    assert {r.recipient for r in rows} == {f"wechat:{OPENID}"}
    assert outbox_pass()["sent"] >= 3
    sends = [r.json for r in wechat_gateway.wechat_sends()]
    assert len(sends) == 3 and {s["touser"] for s in sends} == {OPENID}
    assert all(s["url"] == f"https://wangge.example.cn/t/{demand.short_code}" for s in sends)
    assert "受理" in sends[1]["data"]["keyword2"]["value"] and sends[1]["data"]["keyword1"]["value"] == demand.code


def test_set_menu_posts_the_default_menu(settings: Any, wechat_gateway: Gateway) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.example.cn"
    settings.WANGGE_WECHAT_MENU = ""
    out = io.StringIO()
    call_command("wechat_set_menu", stdout=out)
    [request] = [r for r in wechat_gateway.received if r.path.startswith("/cgi-bin/menu/create")]
    buttons = request.json["button"]
    assert [b["url"] for b in buttons] == [
        "https://wangge.example.cn/demands/report/",
        "https://wangge.example.cn/demands/lookup/",
    ]
    assert buttons[0]["name"] == "我要反映" and "2 buttons" in out.getvalue()
    settings.WANGGE_WECHAT_MENU = json.dumps({"button": [{"type": "click", "name": "联系我们", "key": "CONTACT"}]})
    call_command("wechat_set_menu", stdout=out)
    assert [r for r in wechat_gateway.received if r.path.startswith("/cgi-bin/menu/create")][-1].json["button"][0][
        "key"
    ] == "CONTACT"


def test_the_report_page_is_filled_from_the_link_of_a_draft_with_a_place(client: Client, mapped: Any) -> None:
    post(client, location(28.05, 113.25, "9501", label="金沙路88号"))
    draft = WeChatDraft.objects.get()
    assert draft.text == "" and draft.label == "金沙路88号"
    from wangge.wechat.services import form_link

    link = urllib.parse.urlsplit(form_link(draft))
    page = client.get(link.path, dict(urllib.parse.parse_qsl(link.query))).content.decode()
    assert 'value="金沙路88号"' in page and 'value="28.05' in page and 'value="113.25' in page
    assert 'value="gcj02"' in page  # the page files the point in WeChat's datum, not as GPS


def test_filings_per_openid_are_limited_like_reports_per_phone(client: Client, mapped: Any, settings: Any) -> None:
    settings.WANGGE_REPORT_RATE = "1/h"
    # In the middle of an hour's window, so that the second filing cannot fall into the next one.
    with time_machine.travel(dt.datetime(2026, 12, 7, 2, 30, tzinfo=dt.UTC), tick=False):
        post(client, text("路灯坏了", "9601"))
        post(client, location(*INSIDE, "9602"))
        post(client, text("又一个问题", "9603"))
        answer = reply_of(post(client, location(*INSIDE, "9604")))
        assert "太频繁" in answer and Demand.objects.count() == 1
        other = reply_of(post(client, text("别人的问题", "9605", openid="oRESIDENT0002")))
        assert "太频繁" not in other


def test_a_wechat_location_is_read_as_gcj02_and_routed_where_it_really_is(client: Client, mapped: Any) -> None:
    from wangge.core import geodesy
    from wangge.registry.models import Area

    # The sibling grid east of the tree's grid (border at lng 113.5); a resident 300 m west of the border
    # sends WeChat's GCJ-02 point, which lies ~550 m further east, inside the sibling.
    Area.objects.filter(pk=mapped.sibling_grid.pk).update(boundary=square(113.5, 28.0, 113.6, 28.2))
    routing.clear_cache()
    real = (28.1, 113.497)
    sent = geodesy.wgs84_to_gcj02(*real)
    assert routing.area_for_point(*sent) == mapped.sibling_grid  # as WGS-84 it would be the neighbour
    post(client, text("路灯坏了", "9901"))
    post(client, location(*sent, "9902"))
    demand = Demand.objects.get()
    assert demand.area_id == mapped.grid.pk
    assert demand.location_datum == "gcj02"
    assert geodesy.distance_m(demand.lat, demand.lng, *real) < 0.01  # stored in WGS-84
