"""Template messages of the county's WeChat official account (公众号) to residents, `wechat:<openid>`.

Unlike `WeChatTemplateBackend` (a relay that holds the token), this one speaks WeChat's own API:
token GET `{base}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…` →
`{"access_token": …, "expires_in": 7200}`, kept in the Django cache (shared by every worker) until
shortly before it expires; send POST `{base}/cgi-bin/message/template/send?access_token=…` with
`{"touser", "template_id", "url", "data"}` → `{"errcode": 0, "errmsg": "ok", "msgid": …}`.
Residents' photos: GET `{base}/cgi-bin/media/get?access_token=…&media_id=…` → the file, or an errcode object
(`media_get`), and the message's PicUrl (`picture_get`).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from wangge.notifications.backends import (
    Backend,
    DeliveryResult,
    HttpAnswer,
    _dumps,
    _json_object,
    _timeout,
    cached_access_token,
    post_json,
    trim,
)
from wangge.notifications.backends.http import Fetched, get_bytes

# The access token expired (42001) or is not valid (40001, e.g. the secret was reset): fetch one, retry once.
TOKEN_ERRCODES = frozenset({40001, 42001})
# The user unfollowed the account (43004) or the openid is not one of this account's (40003): no retry helps.
PERMANENT_ERRCODES = {43004: "the user does not follow the official account", 40003: "not an openid of this account"}
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
# A template field holds at most 20 characters in WeChat's current "thing" type; longer is cut.
FIELD_CHARS = 20


def base_url() -> str:
    return str(getattr(settings, "NOTIFY_WECHAT_BASE_URL", "") or "https://api.weixin.qq.com").rstrip("/")


def access_token(*, stale: str | None = None) -> tuple[str | None, str]:
    """A live access token of the official account (cached, else fetched), or None and why.

    `stale` is a token WeChat just refused: it is not handed out again even if still cached.
    Also used by `manage.py wechat_set_menu`.
    """
    app_id = str(getattr(settings, "WANGGE_WECHAT_APP_ID", ""))
    secret = str(getattr(settings, "WANGGE_WECHAT_APP_SECRET", ""))
    if not (app_id and secret):
        return None, "WeChat is not configured: set WANGGE_WECHAT_APP_ID and WANGGE_WECHAT_APP_SECRET"
    query = urllib.parse.urlencode({"grant_type": "client_credential", "appid": app_id, "secret": secret})
    return cached_access_token(
        name="WeChat token", credentials=f"{app_id}:{secret}", url=f"{base_url()}/cgi-bin/token?{query}", stale=stale
    )


def post_with_token(path: str, body: bytes) -> tuple[HttpAnswer | None, str]:
    """POST to `{base}{path}?access_token=…`, refreshing an expired or invalid token once."""
    token, error = access_token()
    if token is None:
        return None, error
    answer = _post(path, token, body)
    data, _problem = _json_object(answer)
    if data is not None and data.get("errcode") in TOKEN_ERRCODES:
        token, error = access_token(stale=token)
        if token is None:
            return None, error
        answer = _post(path, token, body)
    return answer, ""


def api_post(path: str, data: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """POST a JSON object to the official account's API (token included); its answer object, or None and why."""
    answer, error = post_with_token(path, _dumps(data))
    if answer is None:
        return None, error
    return _json_object(answer)


def _post(path: str, token: str, body: bytes) -> HttpAnswer:
    query = urllib.parse.urlencode({"access_token": token})
    return post_json(f"{base_url()}{path}?{query}", body, {}, timeout=_timeout())


class WeChatOfficialBackend(Backend):
    """Template messages to residents who reported through the official account (channel "wechat_mp").

    A message's payload may hold the whole template `data` (`wechat_data`) and its `url`; otherwise the
    subject, the demand's code and the body fill `first`/`keyword1`/`keyword2` of WANGGE_WECHAT_TEMPLATE_STATE.
    """

    def send(self, message: Any) -> DeliveryResult:
        openid = message.recipient.removeprefix("wechat:").strip()
        if not message.recipient.startswith("wechat:") or not OPENID.match(openid):
            return DeliveryResult.failure(
                f"not a WeChat recipient (wechat:<openid>): {message.recipient}", permanent=True
            )
        payload = message.payload if isinstance(message.payload, dict) else {}
        template_id = str(payload.get("template_id") or getattr(settings, "WANGGE_WECHAT_TEMPLATE_STATE", ""))
        if not template_id:
            return DeliveryResult.failure("no template: set WANGGE_WECHAT_TEMPLATE_STATE", permanent=True)
        data = payload.get("wechat_data")
        if not isinstance(data, dict):
            data = {
                "first": {"value": trim(message.subject, 100)},
                "keyword1": {"value": str(payload.get("code") or message.subject)[:FIELD_CHARS]},
                "keyword2": {"value": trim(message.body, 200)},
            }
        body = _dumps({"touser": openid, "template_id": template_id, "url": str(payload.get("url", "")), "data": data})
        answer, error = post_with_token("/cgi-bin/message/template/send", body)
        if answer is None:
            return DeliveryResult.failure(error)
        return self._result(answer)

    @staticmethod
    def _result(answer: HttpAnswer) -> DeliveryResult:
        data, problem = _json_object(answer)
        if data is None:
            return DeliveryResult.failure(problem, answer.status)
        code = data.get("errcode")
        if code == 0:
            return DeliveryResult.success(answer.status)
        detail = f"WeChat errcode {code}: {data.get('errmsg', '')}"
        if code in PERMANENT_ERRCODES:
            return DeliveryResult.failure(f"{detail} ({PERMANENT_ERRCODES[code]})", answer.status, permanent=True)
        return DeliveryResult.failure(detail, answer.status)


@dataclass(frozen=True)
class Media:
    """A file WeChat holds for the official account (a resident's photo), or why it could not be had.

    `permanent`: asking again cannot help (the media id is unknown or expired, the file is too big).
    """

    data: bytes | None
    content_type: str = ""
    error: str = ""
    permanent: bool = False


# WeChat answers an unknown or expired media id with 40007; a temporary file lives three days.
MEDIA_GONE_ERRCODES = frozenset({40007, 40004})


def media_get(media_id: str, *, limit: int) -> Media:
    """The temporary media `media_id` (GET `{base}/cgi-bin/media/get?access_token=…&media_id=…`).

    WeChat answers the file itself, or a JSON error object; an expired or invalid token is refreshed once.
    """
    token, error = access_token()
    if token is None:
        return Media(None, error=error)
    answer = _media(token, media_id, limit)
    code = _errcode(answer)
    if code in TOKEN_ERRCODES:
        token, error = access_token(stale=token)
        if token is None:
            return Media(None, error=error)
        answer = _media(token, media_id, limit)
    return _file(answer, limit)


def picture_get(url: str, *, limit: int) -> Media:
    """A photo by the PicUrl WeChat gave with the message (its own picture server, no token)."""
    if not url.startswith(("http://", "https://")):
        return Media(None, error=f"not a picture URL: {url[:100]}", permanent=True)
    return _file(get_bytes(url, timeout=_timeout(), limit=limit), limit)


def _media(token: str, media_id: str, limit: int) -> Fetched:
    query = urllib.parse.urlencode({"access_token": token, "media_id": media_id})
    return get_bytes(f"{base_url()}/cgi-bin/media/get?{query}", timeout=_timeout(), limit=limit)


def _errcode(answer: Fetched) -> int | None:
    """WeChat's errcode when the answer is its JSON error object instead of a file."""
    if answer.data[:1] != b"{":
        return None
    try:
        data = json.loads(answer.data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    code = data.get("errcode") if isinstance(data, dict) else None
    return int(code) if isinstance(code, int) else None


def _file(answer: Fetched, limit: int) -> Media:
    if answer.error:
        return Media(None, error=answer.error, permanent=answer.status == 404)
    code = _errcode(answer)
    if code is not None:
        detail = f"WeChat errcode {code}"
        return Media(None, error=detail, permanent=code in MEDIA_GONE_ERRCODES)
    if len(answer.data) > limit:
        return Media(None, error=f"the file is larger than {limit} bytes", permanent=True)
    if not answer.data:
        return Media(None, error="WeChat sent an empty file")
    return Media(answer.data, content_type=answer.content_type)
