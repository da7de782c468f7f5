"""Delivery backends: one per channel, chosen by dotted path in settings.NOTIFY_BACKENDS.

A backend's `send(message)` returns a `DeliveryResult` and should not raise; the delivering
service still catches anything that escapes, so a broken backend only fails its own message.
HTTP (backends/http.py) goes through urllib (no new dependency), without following redirects (a webhook that
moved is a configuration error to see, not to follow with a GET) and without environment
proxies unless NOTIFY_USE_ENV_PROXY is on (county intranets talk to gateways directly).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from wangge.core import clock
from wangge.core.hooks import load
from wangge.core.masking import mask_phone
from wangge.core.phones import is_mobile, normalise_phone
from wangge.notifications.backends.http import (
    HttpAnswer,
    _dumps,
    _timeout,
    get_json,
    post_json,
    sign,
)
from wangge.notifications.backends.http import verify_signature as verify_signature

logger = logging.getLogger("wangge.notifications")

ERROR_TRIM = 300
# One SMS segment holds 70 characters in UCS-2 (any Chinese text), sign name included; longer
# texts are split into 67-character segments, each billed. We keep every message to one segment.
SMS_SEGMENT_CHARS = 70


@dataclass(frozen=True)
class DeliveryResult:
    """What one try gave: ok, the remote status, an error to show, and whether retrying can help."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    permanent: bool = False

    @classmethod
    def success(cls, status_code: int | None = None) -> DeliveryResult:
        return cls(ok=True, status_code=status_code)

    @classmethod
    def failure(cls, error: str, status_code: int | None = None, *, permanent: bool = False) -> DeliveryResult:
        return cls(ok=False, status_code=status_code, error=trim(error), permanent=permanent)


def trim(text: str, limit: int = ERROR_TRIM) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Backend:
    """Base of every backend; subclasses implement send()."""

    def send(self, message: Any) -> DeliveryResult:  # pragma: no cover - interface
        raise NotImplementedError


class LogBackend(Backend):
    """Writes the message to the Python log and counts it as sent (the local default)."""

    def send(self, message: Any) -> DeliveryResult:
        recipient = message.recipient
        if is_mobile(normalise_phone(recipient)):
            recipient = mask_phone(normalise_phone(recipient))
        logger.info(
            "notification #%s %s to %s [%s] %s: %s",
            message.pk,
            message.channel,
            recipient,
            message.kind,
            message.subject,
            trim(message.body, 200),
        )
        return DeliveryResult.success()


class LocalBackend(Backend):
    """Outbox only: the message stays for the administrators' page and counts as sent."""

    def send(self, message: Any) -> DeliveryResult:
        return DeliveryResult.success()


def _webhook_url(recipient: str) -> str:
    """A URL recipient is used as given; an endpoint name is looked up; anything else goes to the default."""
    if recipient.startswith(("http://", "https://")):
        return recipient
    endpoints: dict[str, str] = getattr(settings, "NOTIFY_WEBHOOK_ENDPOINTS", {}) or {}
    return str(endpoints.get(recipient) or getattr(settings, "NOTIFY_WEBHOOK_URL", ""))


class WebhookBackend(Backend):
    """POSTs the message as signed JSON; any 2xx is sent, anything else a failure with status and body."""

    def send(self, message: Any) -> DeliveryResult:
        url = _webhook_url(message.recipient)
        if not url:
            return DeliveryResult.failure(
                "no webhook URL: set NOTIFY_WEBHOOK_URL or use a URL as recipient", permanent=True
            )
        body = _dumps(
            {
                "id": message.pk,
                "channel": message.channel,
                "recipient": message.recipient,
                "kind": message.kind,
                "subject": message.subject,
                "body": message.body,
                "payload": message.payload,
                "created_at": message.created_at,
                "attempt": message.attempts,
            }
        )
        timestamp = str(int(clock.now().timestamp()))
        headers = {"X-Wangge-Timestamp": timestamp, "X-Wangge-Message-Id": str(message.pk)}
        secret = getattr(settings, "NOTIFY_WEBHOOK_SECRET", "")
        if secret:
            headers["X-Wangge-Signature"] = sign(secret, timestamp, body)
        answer = post_json(url, body, headers, timeout=_timeout())
        if answer.status is not None and 200 <= answer.status < 300:
            return DeliveryResult.success(answer.status)
        detail = f"{answer.error}: {answer.text}" if answer.text else answer.error
        return DeliveryResult.failure(detail or f"HTTP {answer.status}", answer.status)


# --- SMS ------------------------------------------------------------------------------------

# Gateway codes that no retry can fix: the number, the sign or the template is wrong.
SMS_PERMANENT_CODES = {
    "MOBILE_NUMBER_ILLEGAL",
    "INVALID_PHONE",
    "SIGN_NAME_ILLEGAL",
    "SMS_SIGNATURE_ILLEGAL",
    "TEMPLATE_ILLEGAL",
    "SMS_TEMPLATE_ILLEGAL",
    "TEMPLATE_MISSING_PARAMETERS",
    "INVALID_PARAMETERS",
    "BLACK_KEY_CONTROL_LIMIT",
}


def sms_phones(recipient: str) -> list[str]:
    """The 11-digit mobile numbers in a recipient ("13800001111" or several, comma-separated); [] if any is bad."""
    phones = [normalise_phone(p) for p in re.split(r"[,，;；]+", recipient) if p.strip()]
    if not phones or not all(is_mobile(p) for p in phones):
        return []
    return phones


def sms_text(sign_name: str, body: str) -> str:
    """The body cut so that 【sign】 + text fits one 70-character segment."""
    room = SMS_SEGMENT_CHARS - (len(sign_name) + 2 if sign_name else 0)
    text = " ".join(body.split())
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


class SmsGatewayBackend(Backend):
    """Adapter for a typical Chinese SMS HTTP gateway: JSON with numbers, sign, template and params.

    Request: POST NOTIFY_SMS_URL, header `X-Api-Key: NOTIFY_SMS_KEY`, body
    `{"phone_numbers": "138…,139…", "sign_name": "…", "template_code": "…", "template_param": {…},
    "out_id": "<message id>"}`; answer `{"code": "OK", "message": "…", "biz_id": "…"}` or another
    code. A message's payload may name `template_code` and `template_param`; otherwise the
    default template gets `{"content": <body trimmed to one segment>}`.
    """

    def send(self, message: Any) -> DeliveryResult:
        url = getattr(settings, "NOTIFY_SMS_URL", "")
        if not url:
            return DeliveryResult.failure("no SMS gateway: set NOTIFY_SMS_URL", permanent=True)
        phones = sms_phones(message.recipient)
        if not phones:
            return DeliveryResult.failure(
                f"not an 11-digit mobile number: {mask_phone(message.recipient)}", permanent=True
            )
        sign_name = getattr(settings, "NOTIFY_SMS_SIGN", "")
        payload = message.payload if isinstance(message.payload, dict) else {}
        template_code = payload.get("template_code") or getattr(settings, "NOTIFY_SMS_TEMPLATE", "")
        params = payload.get("template_param")
        if not isinstance(params, dict):
            params = {"content": sms_text(sign_name, message.body or message.subject)}
        body = _dumps(
            {
                "phone_numbers": ",".join(phones),
                "sign_name": sign_name,
                "template_code": template_code,
                "template_param": params,
                "out_id": str(message.pk),
            }
        )
        answer = post_json(url, body, {"X-Api-Key": getattr(settings, "NOTIFY_SMS_KEY", "")}, timeout=_timeout())
        return _gateway_result(answer, ok_field="code", ok_value="OK", message_field="message")


def _gateway_result(answer: HttpAnswer, *, ok_field: str, ok_value: Any, message_field: str) -> DeliveryResult:
    """A gateway says yes only with 2xx and its success code in JSON; its error code is kept for the page."""
    if answer.status is None or not 200 <= answer.status < 300:
        detail = f"{answer.error}: {answer.text}" if answer.text else answer.error
        return DeliveryResult.failure(detail, answer.status)
    try:
        data = json.loads(answer.text)
    except ValueError:
        return DeliveryResult.failure(f"gateway answered non-JSON: {answer.text}", answer.status)
    if not isinstance(data, dict):
        return DeliveryResult.failure(f"gateway answered non-object JSON: {answer.text}", answer.status)
    code = data.get(ok_field)
    if code == ok_value:
        return DeliveryResult.success(answer.status)
    text = data.get(message_field) or ""
    code_text = str(code)
    permanent = code_text.rsplit(".", 1)[-1].upper() in SMS_PERMANENT_CODES
    return DeliveryResult.failure(f"gateway code {code_text}: {text}", answer.status, permanent=permanent)


class WeChatTemplateBackend(Backend):
    """Adapter for a WeChat template-message relay (which holds the access token).

    Request: POST NOTIFY_WECHAT_URL, header `X-Api-Key: NOTIFY_WECHAT_KEY`, body
    `{"touser": "<openid>", "template_id": "…", "url": "…", "data": {"first": {"value": subject},
    "keyword1": {"value": body}, …}}`; answer `{"errcode": 0, "errmsg": "ok"}` or an error code.
    """

    def send(self, message: Any) -> DeliveryResult:
        url = getattr(settings, "NOTIFY_WECHAT_URL", "")
        if not url:
            return DeliveryResult.failure("no WeChat gateway: set NOTIFY_WECHAT_URL", permanent=True)
        openid = message.recipient.removeprefix("wechat:")
        payload = message.payload if isinstance(message.payload, dict) else {}
        data = payload.get("wechat_data")
        if not isinstance(data, dict):
            data = {"first": {"value": message.subject}, "keyword1": {"value": trim(message.body, 200)}}
        body = _dumps(
            {
                "touser": openid,
                "template_id": payload.get("template_id") or getattr(settings, "NOTIFY_WECHAT_TEMPLATE", ""),
                "url": payload.get("url", ""),
                "data": data,
            }
        )
        answer = post_json(url, body, {"X-Api-Key": getattr(settings, "NOTIFY_WECHAT_KEY", "")}, timeout=_timeout())
        return _gateway_result(answer, ok_field="errcode", ok_value=0, message_field="errmsg")


# --- WeCom (企业微信) -------------------------------------------------------------------------

# errcodes that mean the access token is expired (42001) or not valid (40014): fetch one and retry once.
WECOM_TOKEN_ERRCODES = frozenset({40014, 42001})
# WeCom's limits on a text card, in UTF-8 bytes.
WECOM_TITLE_BYTES = 128
WECOM_DESCRIPTION_BYTES = 512


def trim_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, never inside a character, with "…" when cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


def _wecom_settings() -> tuple[str, str, str, str]:
    base = str(getattr(settings, "NOTIFY_WECOM_BASE_URL", "") or "https://qyapi.weixin.qq.com").rstrip("/")
    return (
        base,
        str(getattr(settings, "NOTIFY_WECOM_CORP_ID", "")),
        str(getattr(settings, "NOTIFY_WECOM_SECRET", "")),
        str(getattr(settings, "NOTIFY_WECOM_AGENT_ID", "")),
    )


def _json_object(answer: HttpAnswer) -> tuple[dict[str, Any] | None, str]:
    """The answer's JSON object, or None and why not (network trouble, HTTP status, not JSON)."""
    if answer.status is None or not 200 <= answer.status < 300:
        return None, (f"{answer.error}: {answer.text}" if answer.text else answer.error)
    try:
        data = json.loads(answer.text)
    except ValueError:
        return None, f"WeCom answered non-JSON: {answer.text}"
    if not isinstance(data, dict):
        return None, f"WeCom answered non-object JSON: {answer.text}"
    return data, ""


def cached_access_token(*, name: str, credentials: str, url: str, stale: str | None = None) -> tuple[str | None, str]:
    """An API access token (WeCom, WeChat) from the cache shared by workers, else fetched from `url`; or None and why.

    `stale` is a token the API just refused: it is not handed out again even if still cached (another
    worker may already have refreshed it). Tokens are renewed well before their own expiry, so one never
    dies between two sends of one pass.
    """
    from django.core.cache import cache

    key = "wangge:notify:token:" + hashlib.sha256(f"{name}:{credentials}".encode()).hexdigest()[:24]
    cached = cache.get(key)
    if cached and cached != stale:
        return str(cached), ""
    data, problem = _json_object(get_json(url, timeout=_timeout()))
    if data is None:
        return None, f"{name}: {problem}"
    token = data.get("access_token")
    if data.get("errcode", 0) != 0 or not token:
        return None, f"{name} errcode {data.get('errcode')}: {data.get('errmsg', '')}"
    expires_in = int(data.get("expires_in") or 7200)
    cache.set(key, token, timeout=max(expires_in - min(300, expires_in // 10), 1))
    return str(token), ""


class WeComBackend(Backend):
    """Application messages of a WeCom (企业微信) self-built app, sent as text cards to `wecom:<userid>`.

    Token: GET `{base}/cgi-bin/gettoken?corpid=…&corpsecret=…` → `{"errcode": 0, "access_token": …,
    "expires_in": 7200}`, kept in the Django cache (shared by every worker: the database or Redis)
    until shortly before it expires. Send: POST `{base}/cgi-bin/message/send?access_token=…` with
    `{"touser", "msgtype": "textcard", "agentid", "textcard": {title, description, url, btntxt}}` →
    `{"errcode": 0, "errmsg": "ok", "invaliduser": ""}`. A message's payload may hold the whole
    `textcard`; otherwise subject and body make one. An expired or invalid token is refreshed once;
    a user id WeCom names in `invaliduser` is a permanent failure; anything else is retried.
    """

    def send(self, message: Any) -> DeliveryResult:
        base, corp_id, secret, agent_id = _wecom_settings()
        if not (corp_id and secret and agent_id.isdigit()):
            return DeliveryResult.failure(
                "WeCom is not configured: set NOTIFY_WECOM_CORP_ID, NOTIFY_WECOM_SECRET and NOTIFY_WECOM_AGENT_ID",
                permanent=True,
            )
        userid = message.recipient.removeprefix("wecom:").strip()
        if not message.recipient.startswith("wecom:") or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$", userid):
            return DeliveryResult.failure(
                f"not a WeCom recipient (wecom:<userid>): {message.recipient}", permanent=True
            )
        body = _dumps(
            {
                "touser": userid,
                "msgtype": "textcard",
                "agentid": int(agent_id),
                "textcard": self._card(message),
                # WeCom drops an identical message within the interval: a resend after a worker
                # died between sending and recording reaches nobody twice.
                "enable_duplicate_check": 1,
                "duplicate_check_interval": 1800,
            }
        )
        token, error = self._token(base, corp_id, secret)
        if token is None:
            return DeliveryResult.failure(error)
        answer = self._post(base, token, body)
        data, _problem = _json_object(answer)
        if data is not None and data.get("errcode") in WECOM_TOKEN_ERRCODES:
            token, error = self._token(base, corp_id, secret, stale=token)
            if token is None:
                return DeliveryResult.failure(error)
            answer = self._post(base, token, body)
        return self._result(answer, userid)

    @staticmethod
    def _card(message: Any) -> dict[str, str]:
        payload = message.payload if isinstance(message.payload, dict) else {}
        card = payload.get("textcard")
        card = dict(card) if isinstance(card, dict) else {}
        fallback_url = str(getattr(settings, "WANGGE_PUBLIC_BASE_URL", "")) or "https://work.weixin.qq.com"
        return {
            "title": trim_bytes(str(card.get("title") or message.subject or message.kind), WECOM_TITLE_BYTES),
            "description": trim_bytes(str(card.get("description") or message.body), WECOM_DESCRIPTION_BYTES),
            "url": str(card.get("url") or payload.get("url") or fallback_url),
            "btntxt": trim_bytes(str(card.get("btntxt") or "详情"), 12),
        }

    @staticmethod
    def _token(base: str, corp_id: str, secret: str, *, stale: str | None = None) -> tuple[str | None, str]:
        """A live access token (from the cache, else fetched), or None and why; `stale` is one WeCom refused."""
        query = urllib.parse.urlencode({"corpid": corp_id, "corpsecret": secret})
        return cached_access_token(
            name="WeCom gettoken",
            credentials=f"{corp_id}:{secret}",
            url=f"{base}/cgi-bin/gettoken?{query}",
            stale=stale,
        )

    @staticmethod
    def _post(base: str, token: str, body: bytes) -> HttpAnswer:
        query = urllib.parse.urlencode({"access_token": token})
        return post_json(f"{base}/cgi-bin/message/send?{query}", body, {}, timeout=_timeout())

    @staticmethod
    def _result(answer: HttpAnswer, userid: str) -> DeliveryResult:
        data, problem = _json_object(answer)
        if data is None:
            return DeliveryResult.failure(problem, answer.status)
        invalid = {part.strip().lower() for part in str(data.get("invaliduser") or "").split("|")}
        if userid.lower() in invalid:
            # No retry can make a member exist: bind the right id (admin or import_wecom_ids) instead.
            return DeliveryResult.failure(
                f"WeCom user id does not exist: {userid} (errcode {data.get('errcode')})",
                answer.status,
                permanent=True,
            )
        if data.get("errcode") == 0:
            return DeliveryResult.success(answer.status)
        return DeliveryResult.failure(f"WeCom errcode {data.get('errcode')}: {data.get('errmsg', '')}", answer.status)


def backend_for(channel: str) -> Backend:
    """The configured backend of a channel; an unknown channel or a bad path raises (the caller records it)."""
    paths: dict[str, str] = settings.NOTIFY_BACKENDS
    if channel not in paths:
        raise LookupError(f"no backend configured for channel {channel!r}")
    return _backend(paths[channel])


@lru_cache(maxsize=16)
def _backend(path: str) -> Backend:
    # Backends keep no state (they read settings on each send), so one instance per path is enough.
    return load(path)()  # type: ignore[no-any-return]
