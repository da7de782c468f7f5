"""The official account's message callback (`/wechat/callback/`): thin; the work is in services.

WeChat signs every call with the account's Token (sha1 of the sorted token, timestamp and nonce).
In safe mode (WANGGE_WECHAT_AES_KEY set) the body is AES-encrypted with its own msg_signature and
so is the reply; a plain body is then refused, so that nobody can skip the encryption.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from wangge.core import ratelimit
from wangge.wechat.services import Incoming, wechat_message_receive

MAX_BODY = 64 * 1024


def _crypto() -> WeChatCrypto | None:
    key = str(getattr(settings, "WANGGE_WECHAT_AES_KEY", ""))
    if not key:
        return None
    return WeChatCrypto(settings.WANGGE_WECHAT_TOKEN, key, settings.WANGGE_WECHAT_APP_ID)


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def incoming_of(message: object) -> Incoming:
    """The fields of a parsed wechatpy message the services use."""
    get = dict(getattr(message, "_data", {}) or {}).get  # wechatpy keeps the raw XML fields here
    msg_type = str(getattr(message, "type", "unknown"))
    return Incoming(
        openid=str(get("FromUserName") or ""),
        msg_type=msg_type,
        msg_id=str(get("MsgId") or ""),
        create_time=int(get("CreateTime") or 0),
        text=str(get("Content") or "") if msg_type == "text" else "",
        lat=_float(get("Location_X")),
        lng=_float(get("Location_Y")),
        label=str(get("Label") or ""),
        pic_url=str(get("PicUrl") or ""),
        media_id=str(get("MediaId") or ""),
        event=str(get("Event") or "").lower(),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest) -> HttpResponse:
    token = str(getattr(settings, "WANGGE_WECHAT_TOKEN", ""))
    if not token:
        return HttpResponse("WeChat is not configured", status=404, content_type="text/plain")
    signature = request.GET.get("signature", "")
    timestamp = request.GET.get("timestamp", "")
    nonce = request.GET.get("nonce", "")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    if request.method == "GET":  # WeChat checks the URL once when it is saved in the console
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = b"" if length > MAX_BODY else request.read(MAX_BODY + 1)
    if length > MAX_BODY or len(raw) > MAX_BODY:
        return HttpResponse("too large", status=413, content_type="text/plain")
    crypto = _crypto()
    if crypto is not None:
        if request.GET.get("encrypt_type") != "aes":
            return HttpResponse("safe mode: encrypted messages only", status=403, content_type="text/plain")
        try:
            xml = crypto.decrypt_message(raw, request.GET.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException):
            return HttpResponse("bad signature", status=403, content_type="text/plain")
        except Exception:  # not XML, not base64, bad padding: nothing of ours to tell
            return HttpResponse("bad message", status=400, content_type="text/plain")
    else:
        xml = raw.decode("utf-8", "replace")
    try:
        message = parse_message(xml)
    except Exception:  # malformed XML
        return HttpResponse("bad message", status=400, content_type="text/plain")
    incoming = incoming_of(message)
    if not incoming.openid:
        return HttpResponse("bad message", status=400, content_type="text/plain")
    try:
        # Like the report page's limit per phone, counted only for what was filed; the openid stands for the phone.
        ratelimit.peek(request, "report-wechat", settings.WANGGE_REPORT_RATE, key=incoming.openid)
    except ratelimit.RateLimited as exc:
        text = exc.zh
    else:
        received = wechat_message_receive(incoming=incoming)
        if received.demand is not None:
            ratelimit.count(request, "report-wechat", settings.WANGGE_REPORT_RATE, key=incoming.openid)
        text = received.text
    reply = create_reply(text, message).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return HttpResponse(reply, content_type="application/xml; charset=utf-8")
