"""HTTP for the backends: urllib (no new dependency), no redirects followed (a webhook that moved is a
configuration error to see, not to follow with a GET), no environment proxies unless NOTIFY_USE_ENV_PROXY
is on (county intranets talk to gateways directly); signatures of the webhook body."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@lru_cache(maxsize=2)
def _opener(use_env_proxy: bool) -> urllib.request.OpenerDirector:
    proxy = urllib.request.ProxyHandler() if use_env_proxy else urllib.request.ProxyHandler({})
    return urllib.request.build_opener(proxy, _NoRedirect())


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None
    text: str
    error: str


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> HttpAnswer:
    """POST bytes as JSON; never raises for network trouble, it is reported in the answer."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    for key, value in headers.items():
        request.add_header(key, value)
    return _exchange(request, timeout=timeout)


def get_json(url: str, *, timeout: float) -> HttpAnswer:
    """GET a JSON answer; like post_json, network trouble is reported in the answer, never raised."""
    return _exchange(urllib.request.Request(url, method="GET"), timeout=timeout)


@dataclass(frozen=True)
class Fetched:
    """A GET's raw answer: status, content type and at most `limit` bytes of the body (or why there is none)."""

    status: int | None
    content_type: str
    data: bytes
    error: str


def get_bytes(url: str, *, timeout: float, limit: int) -> Fetched:
    """GET a file (a photo WeChat holds); like post_json, network trouble is reported, never raised.

    At most `limit` + 1 bytes are read, so the caller can tell a file over its cap from one at the cap.
    """
    return _exchange_raw(urllib.request.Request(url, method="GET"), timeout=timeout, limit=limit + 1)


def _exchange(request: urllib.request.Request, *, timeout: float) -> HttpAnswer:
    raw = _exchange_raw(request, timeout=timeout, limit=64 * 1024)
    return HttpAnswer(status=raw.status, text=raw.data.decode("utf-8", "replace"), error=raw.error)


def _exchange_raw(request: urllib.request.Request, *, timeout: float, limit: int) -> Fetched:
    request.add_header("User-Agent", "wangge-notifications/1")
    opener = _opener(bool(getattr(settings, "NOTIFY_USE_ENV_PROXY", False)))
    try:
        with opener.open(request, timeout=timeout) as response:
            kind = str(response.headers.get("Content-Type", ""))
            return Fetched(status=response.status, content_type=kind, data=response.read(limit), error="")
    except urllib.error.HTTPError as exc:
        try:
            data = exc.read(4096)
        except Exception:  # the body of an error answer is only a hint
            data = b""
        return Fetched(status=exc.code, content_type="", data=data, error=f"HTTP {exc.code}")
    except TimeoutError:
        return Fetched(status=None, content_type="", data=b"", error=f"timed out after {timeout:g} s")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return Fetched(status=None, content_type="", data=b"", error=f"timed out after {timeout:g} s")
        return Fetched(status=None, content_type="", data=b"", error=f"cannot connect: {reason}")
    except (OSError, ValueError) as exc:  # refused, reset, or a malformed URL
        return Fetched(status=None, content_type="", data=b"", error=f"{type(exc).__name__}: {exc}")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "timestamp.body" (the receiver recomputes it)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does: recompute the signature in constant time and refuse old timestamps (replays)."""
    if not secret or not signature or not timestamp.isdigit():
        return False
    if now is not None and abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":")).encode("utf-8")


def _timeout() -> float:
    return float(getattr(settings, "NOTIFY_TIMEOUT", 5))
