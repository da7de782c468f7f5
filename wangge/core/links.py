"""Absolute links to public pages: what QR codes, SMS and other messages carry.

A link leaves the server (printed on paper, sent by SMS), so it cannot be built from the request
that happens to be running: it is `WANGGE_PUBLIC_BASE_URL` (checked at start-up by wangge.E004)
followed by the path. Short codes keep an SMS link short: an SMS segment holds 70 Chinese
characters, and a link that spills into a second one costs twice and may be cut by the phone.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.conf import settings

# Crockford's base32 without the letters read as digits (I, L, O, U): easy to read back over the phone.
SHORT_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SHORT_LENGTH = 10  # 50 bits: unguessable among millions of links, and short enough for one SMS
# Where config/urls.py mounts the short links. Messages are written by services, which may run under
# another urlconf (the API alone, a benchmark), so the path is a constant checked against the resolver
# by a test rather than a `reverse` at write time.
SHORT_LINK_PREFIX = "/t/"


def public_base() -> str:
    """The public base URL without its trailing slash ("" when unset; the system check refuses that off DEBUG)."""
    return str(getattr(settings, "WANGGE_PUBLIC_BASE_URL", "") or "").rstrip("/")


def public_url(path: str) -> str:
    """`path` (a site path starting with "/", e.g. from `reverse`) as an absolute public URL."""
    if not path.startswith("/"):
        raise ValueError(f"public_url needs a site path starting with '/', not {path!r}")
    return f"{public_base()}{path}"


def is_absolute_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.query and not parts.fragment


def short_url(code: str) -> str:
    """The absolute short link of `code` (what an SMS carries): base + /t/ + 10 characters."""
    return public_url(f"{SHORT_LINK_PREFIX}{code}")


def new_short_code() -> str:
    """A random code for a short link (`/t/<code>`), from SHORT_ALPHABET."""
    return "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH))
