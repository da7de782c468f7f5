"""The Content-Security-Policy header, and templates that need no inline script to work under it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from wangge.core.middleware import tile_origin

# Everything that would need 'unsafe-inline' or 'unsafe-eval' in script-src.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= handler"),
    (re.compile(r"javascript:", re.I), "javascript: link"),
    (re.compile(r"\bhx-on", re.I), "hx-on (evaluated by htmx)"),
]


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.django_db
def test_every_page_carries_the_policy_and_script_is_self_only() -> None:
    resp = Client().get(reverse("accounts:login"))
    policy = _directives(resp["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["connect-src"] == ["'self'"]
    assert "'unsafe-eval'" not in resp["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_map_tile_server_joins_img_src_and_report_only_is_a_switch(settings: Any) -> None:
    settings.MAP_TILE_URL = "https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png"
    resp = Client().get(reverse("accounts:login"))
    assert "https://*.tiles.example.gov.cn" in _directives(resp["Content-Security-Policy"])["img-src"]
    settings.WANGGE_CSP_REPORT_ONLY = True
    resp = Client().get(reverse("accounts:login"))
    assert "Content-Security-Policy" not in resp and "script-src 'self'" in resp["Content-Security-Policy-Report-Only"]
    assert tile_origin("") == "" and tile_origin("/tiles/{z}/{x}/{y}.png") == ""


def test_no_template_needs_inline_script() -> None:
    found = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {what}")
    assert not found, "\n".join(found)
