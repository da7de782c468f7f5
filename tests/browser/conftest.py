"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium comes from the distribution (/usr/bin/chromium), never from Playwright's own download:
the machines reach package registries only. When it is missing the browser tests are skipped
with that reason; CI installs it, so there they run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM refuses to run inside
# one unless told it is safe. It is: the loop only drives the browser, the ORM calls are ours.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
# Tests keep their pictures under var/ (ignored by git), so a test run leaves the tree clean.
# `make screenshots` sets WANGGE_DOC_SCREENSHOTS=1 to refresh the documented ones on purpose.
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
TEST_SCREENSHOTS = Path(os.environ.get("WANGGE_VAR_DIR", ROOT / "var")) / "screenshots"


def screenshots_dir() -> Path:
    value = os.environ.get("WANGGE_DOC_SCREENSHOTS", "0").strip().lower()
    if value not in {"0", "1"}:
        raise pytest.UsageError(f"WANGGE_DOC_SCREENSHOTS={value!r}: use 1 (docs/screenshots/) or 0 (var/screenshots/)")
    return DOC_SCREENSHOTS if value == "1" else TEST_SCREENSHOTS


PASSWORD = "demo-pass-123"  # what wangge.registry.testing.make_user gives every user
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    # The WeChat in-app browser on Android: what residents scanning a grid's QR code use.
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 "
        "MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 NetType/WIFI Language/zh_CN"
    ),
}
DESK = {"viewport": {"width": 1280, "height": 860}}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _browser_media(settings: Any, tmp_path: Path) -> None:
    # Photos uploaded during a story go to a throwaway folder, never into var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.cache import cache

    cache.clear()  # rate-limit counters from an earlier test must not refuse this one's submissions


def _context(browser: Any, live_server: Any, options: dict[str, Any]) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    # A slow step should fail the test with a message, not hang it.
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def make_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Pages in contexts of their own (one person each: cookies are not shared), closed afterwards."""
    contexts: list[Any] = []

    def make(kind: str = "phone", **extra: Any) -> Any:
        options = {**(PHONE if kind == "phone" else DESK), **extra}
        context = _context(browser, live_server, options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(make_page: Any) -> Any:
    """A 360×740 touch page with a WeChat user agent, the way residents and grid leaders see us."""
    return make_page("phone")


@pytest.fixture
def desk_page(make_page: Any) -> Any:
    """A desktop page, the way village and town staff work."""
    return make_page("desk")


def login(page: Any, user: Any, password: str = PASSWORD) -> None:
    """Log in through the real login form (CSRF, axes and all) and wait for the home page."""
    page.context.clear_cookies()
    page.goto(reverse("accounts:login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action$='/login/'] button[type=submit]")
    assert page.locator("[data-testid=whoami]").count() == 1, page.content()[:2000]


def screenshot(page: Any, name: str) -> Path:
    """Save the full page as <name>-<phone|desk>.png (phone below 600 px wide) under var/screenshots/,
    or docs/screenshots/ when WANGGE_DOC_SCREENSHOTS=1 (`make screenshots`)."""
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    width = (page.viewport_size or {"width": 1280})["width"]
    path = folder / f"{name}-{'phone' if width < 600 else 'desk'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
