"""A real HTTP gateway on 127.0.0.1 for the delivery backends: it checks signatures and misbehaves on request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wangge.notifications.backends import verify_signature

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
    """The test server; `mode` picks its answer: ok, error500, slow, redirect, gateway_error, bad_phone, not_json."""

    url: str
    secret: str = SECRET
    mode: str = "ok"
    sleep_seconds: float = 1.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.headers.get("X-Wangge-Message-Id", "") for r in self.received]


def _handler_for(gw: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(self, status: int, data: Any, extra: dict[str, str] | None = None) -> None:
            raw = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items()}
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


@pytest.fixture
def gateway() -> Iterator[Gateway]:
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


@pytest.fixture
def webhook(settings: Any, gateway: Gateway) -> Gateway:
    """Webhook channel through the real adapter to the test gateway, signed."""
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": BACKENDS + "WebhookBackend"}
    settings.NOTIFY_WEBHOOK_URL = gateway.url + "/hook"
    settings.NOTIFY_WEBHOOK_SECRET = SECRET
    settings.NOTIFY_TIMEOUT = 2
    return gateway


@pytest.fixture
def sms(settings: Any, gateway: Gateway) -> Gateway:
    """SMS channel through the real gateway adapter."""
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "sms": BACKENDS + "SmsGatewayBackend"}
    settings.NOTIFY_SMS_URL = gateway.url + "/sms/send"
    settings.NOTIFY_SMS_KEY = "sms-key-123"
    settings.NOTIFY_SMS_SIGN = "浏阳网格"
    settings.NOTIFY_SMS_TEMPLATE = "SMS_0001"
    settings.NOTIFY_TIMEOUT = 2
    return gateway
