"""Helpers for tests in any app: `make_<thing>(**overrides)` factories and `local_gateway()`, a real
HTTP server on 127.0.0.1 that speaks the webhook, SMS, WeChat relay, WeChat official account and WeCom wire
formats."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wangge.notifications.backends import verify_signature
from wangge.notifications.models import OutboxMessage
from wangge.notifications.services import outbox_enqueue


def make_message(**overrides: Any) -> OutboxMessage:
    """An enqueued message (through the real service) with sensible defaults."""
    data: dict[str, Any] = {
        "channel": "log",
        "recipient": "user:1",
        "subject": "诉求已受理",
        "body": "您反映的樟树枯死问题已由网格长受理。",
        "kind": "demand.accepted",
        "area_path": "430181/",
    }
    data.update(overrides)
    message = outbox_enqueue(**data)
    assert message is not None, "make_message: dedupe_key already used"
    return message


# --- a local gateway -------------------------------------------------------------------------

SECRET = "test-webhook-secret"
BACKENDS = "wangge.notifications.backends."


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Gateway:
    """The test server; `mode` picks its answer: ok, error500, slow, redirect, gateway_error, bad_phone, not_json,
        wechat_error, wecom_error. Under /cgi-bin/ it is WeCom (tokens, text cards, unknown members) and the WeChat
    official account (/cgi-bin/token, template messages, followers, the menu, temporary media); /pic/<name> is
    its picture server (a message's PicUrl)."""

    url: str
    secret: str = SECRET
    mode: str = "ok"
    sleep_seconds: float = 1.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # WeCom (企业微信): the corp it knows, the members that exist, the tokens it issued and those still live.
    wecom_corp_id: str = "wwcorp0001"
    wecom_secret: str = "wecom-app-secret"
    wecom_members: set[str] = field(default_factory=lambda: {"zhangjianguo", "lisi"})
    wecom_expires_in: int = 7200
    wecom_tokens: list[str] = field(default_factory=list)
    wecom_live: set[str] = field(default_factory=set)
    wecom_dead_tokens: bool = False  # True: every token it issues is refused at once (a secret reset mid-way)
    # WeChat official account (公众号): the app it knows, who follows it, its tokens, the menus posted to it.
    wechat_app_id: str = "wxapp0001"
    wechat_secret: str = "wechat-app-secret"
    wechat_followers: set[str] = field(default_factory=lambda: {"oRESIDENT0001", "oRESIDENT0002"})
    wechat_tokens: list[str] = field(default_factory=list)
    wechat_live: set[str] = field(default_factory=set)
    # Files it holds: temporary media by media id (/cgi-bin/media/get), pictures by path (PicUrl, /pic/<name>).
    wechat_media: dict[str, bytes] = field(default_factory=dict)
    pictures: dict[str, bytes] = field(default_factory=dict)

    def media_gets(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith("/cgi-bin/media/get")]

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.headers.get("X-Wangge-Message-Id", "") for r in self.received]

    def wecom_sends(self) -> list[Received]:
        """The message/send requests, in order (each token refusal included)."""
        with self.lock:
            return [r for r in self.received if r.path.startswith("/cgi-bin/message/send")]

    def wecom_gettokens(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith("/cgi-bin/gettoken")]

    def wechat_sends(self) -> list[Received]:
        """The template/send requests of the official account, in order (each token refusal included)."""
        with self.lock:
            return [r for r in self.received if r.path.startswith("/cgi-bin/message/template/send")]

    def wechat_gettokens(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith("/cgi-bin/token")]

    def expire_wechat_tokens(self) -> None:
        """What WeChat does after expires_in: every token issued to the official account dies."""
        with self.lock:
            self.wechat_live.clear()

    def expire_wecom_tokens(self) -> None:
        """What WeCom does after expires_in (or when the app's secret is reset): every issued token dies."""
        with self.lock:
            self.wecom_live.clear()


def _handler_for(gw: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(
            self, status: int, data: Any, extra: dict[str, str] | None = None, kind: str = "application/json"
        ) -> None:
            raw = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            with gw.lock:
                gw.received.append(Received(self.path, dict(self.headers.items()), b"", None))
            if url.path == "/cgi-bin/token":
                self._wechat_token(query)
            elif url.path == "/cgi-bin/media/get":
                self._wechat_media(query)
            elif url.path.startswith("/pic/"):
                picture = gw.pictures.get(url.path.removeprefix("/pic/"))
                if picture is None:
                    self._answer(404, b"not found", kind="text/plain")
                else:
                    self._answer(200, picture, kind="image/jpeg")
            elif url.path != "/cgi-bin/gettoken":
                self._answer(404, {"errcode": 404, "errmsg": "not found"})
            elif (query.get("corpid"), query.get("corpsecret")) != (gw.wecom_corp_id, gw.wecom_secret):
                self._answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
            else:
                with gw.lock:
                    token = f"TOKEN-{len(gw.wecom_tokens) + 1}"
                    gw.wecom_tokens.append(token)
                    if not gw.wecom_dead_tokens:
                        gw.wecom_live.add(token)
                self._answer(
                    200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": gw.wecom_expires_in}
                )

        def _wechat_token(self, query: dict[str, str]) -> None:
            if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
                "client_credential",
                gw.wechat_app_id,
                gw.wechat_secret,
            ):
                self._answer(200, {"errcode": 40013, "errmsg": "invalid appid"})
                return
            with gw.lock:
                token = f"WXTOKEN-{len(gw.wechat_tokens) + 1}"
                gw.wechat_tokens.append(token)
                gw.wechat_live.add(token)
            self._answer(200, {"access_token": token, "expires_in": 7200})

        def _wechat_media(self, query: dict[str, str]) -> None:
            token = query.get("access_token", "")
            with gw.lock:
                issued, live = token in gw.wechat_tokens, token in gw.wechat_live
            if not live:
                code = 42001 if issued else 40001
                self._answer(
                    200, {"errcode": code, "errmsg": "access_token expired" if issued else "invalid credential"}
                )
                return
            media = gw.wechat_media.get(query.get("media_id", ""))
            if media is None:
                # WeChat answers an unknown or expired media id with a JSON object as text/plain.
                self._answer(200, {"errcode": 40007, "errmsg": "invalid media_id"}, kind="text/plain")
                return
            self._answer(200, media, {"Content-disposition": 'attachment; filename="MEDIA.jpg"'}, kind="image/jpeg")

        def _wechat_post(self, path: str, body: bytes) -> None:
            token = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)).get("access_token", "")
            with gw.lock:
                issued, live = token in gw.wechat_tokens, token in gw.wechat_live
            if not live:
                code = 42001 if issued else 40001
                self._answer(
                    200, {"errcode": code, "errmsg": "access_token expired" if issued else "invalid credential"}
                )
                return
            data = json.loads(body.decode("utf-8"))
            if path == "/cgi-bin/menu/create":
                ok = isinstance(data.get("button"), list) and bool(data["button"])
                self._answer(
                    200, {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 40016, "errmsg": "invalid button"}
                )
                return
            if gw.mode == "slow":
                time.sleep(gw.sleep_seconds)
            if not data.get("template_id") or not isinstance(data.get("data"), dict):
                self._answer(200, {"errcode": 40037, "errmsg": "invalid template_id"})
            elif data.get("touser") not in gw.wechat_followers:
                self._answer(200, {"errcode": 43004, "errmsg": "require subscribe"})
            else:
                self._answer(200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(gw.received)})

        def _wecom_send(self, body: bytes) -> None:
            token = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)).get("access_token", "")
            with gw.lock:
                issued, live = token in gw.wecom_tokens, token in gw.wecom_live
            if not live:
                code = 42001 if issued else 40014
                self._answer(200, {"errcode": code, "errmsg": "access_token expired" if issued else "invalid token"})
                return
            data = json.loads(body.decode("utf-8"))
            if gw.mode == "slow":
                time.sleep(gw.sleep_seconds)
            if gw.mode == "wecom_error":
                self._answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
                return
            if data.get("msgtype") != "textcard" or not data.get("agentid") or "url" not in data.get("textcard", {}):
                self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
                return
            unknown = [u for u in str(data.get("touser", "")).split("|") if u.lower() not in gw.wecom_members]
            if unknown:
                self._answer(
                    200,
                    {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(unknown)},
                )
                return
            self._answer(200, {"errcode": 0, "errmsg": "ok", "invaliduser": ""})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items()}
            if self.path.startswith("/cgi-bin/"):
                with gw.lock:
                    gw.received.append(Received(self.path, headers, body, None))
                path = urllib.parse.urlsplit(self.path).path
                with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    if path in ("/cgi-bin/message/template/send", "/cgi-bin/menu/create"):
                        self._wechat_post(path, body)
                    else:
                        self._wecom_send(body)
                return
            signature = headers.get("X-Wangge-Signature")
            signature_ok = None
            if signature is not None:
                signature_ok = verify_signature(
                    secret=gw.secret,
                    timestamp=headers.get("X-Wangge-Timestamp", ""),
                    body=body,
                    signature=signature,
                )
            with gw.lock:
                gw.received.append(Received(self.path, headers, body, signature_ok))
            if signature_ok is False:
                self._answer(401, {"error": "bad signature"})
                return
            mode = gw.mode
            try:
                if mode == "slow":
                    time.sleep(gw.sleep_seconds)
                    self._answer(200, {"code": "OK"})
                elif mode == "error500":
                    self._answer(500, {"error": "upstream exploded " + "x" * 2000})
                elif mode == "redirect":
                    self._answer(302, b"", {"Location": "/elsewhere"})
                elif mode == "gateway_error":
                    self._answer(200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"})
                elif mode == "bad_phone":
                    self._answer(200, {"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "非法手机号"})
                elif mode == "wechat_error":
                    self._answer(200, {"errcode": 43004, "errmsg": "require subscribe"})
                elif mode == "not_json":
                    self._answer(200, b"<html>maintenance</html>")
                else:
                    self._answer(200, {"code": "OK", "errcode": 0, "errmsg": "ok", "biz_id": "B1"})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


@contextmanager
def local_gateway() -> Iterator[Gateway]:
    """The gateway running on a free port of 127.0.0.1 for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(Gateway(url="")))
    gw = Gateway(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler_for(gw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gw
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
