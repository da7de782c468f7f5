from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from wangge.demands import routing
from wangge.notifications.testing import BACKENDS, Gateway, local_gateway
from wangge.registry.models import Area

TOKEN = "wechat-callback-token"
APP_ID = "wxapp0001"


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """Rate-limit counters live in the cache: each test starts with none of another test's filings."""
    cache.clear()
    yield
    cache.clear()


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def mapped(tree: Any, settings: Any) -> Any:
    """The tree with boundaries (city ⊃ town ⊃ village ⊃ grid) and the callback configured in plain mode."""
    for area, shape in (
        (tree.city, square(113.0, 27.9, 114.0, 28.5)),
        (tree.town, square(113.0, 27.9, 113.6, 28.3)),
        (tree.village, square(113.0, 27.95, 113.6, 28.25)),
        (tree.grid, square(113.0, 28.0, 113.5, 28.2)),
    ):
        Area.objects.filter(pk=area.pk).update(boundary=shape)
    routing.clear_cache()
    settings.WANGGE_WECHAT_TOKEN = TOKEN
    settings.WANGGE_WECHAT_APP_ID = APP_ID
    settings.WANGGE_WECHAT_AES_KEY = ""
    settings.WANGGE_PUBLIC_BASE_URL = "https://wangge.example.cn"
    yield tree
    routing.clear_cache()


@pytest.fixture
def wechat_gateway(settings: Any) -> Iterator[Gateway]:
    with local_gateway() as gw:
        settings.NOTIFY_BACKENDS = {
            **settings.NOTIFY_BACKENDS,
            "wechat_mp": BACKENDS + "wechat_mp.WeChatOfficialBackend",
        }
        settings.NOTIFY_WECHAT_BASE_URL = gw.url
        settings.WANGGE_WECHAT_APP_ID = gw.wechat_app_id
        settings.WANGGE_WECHAT_APP_SECRET = gw.wechat_secret
        settings.WANGGE_WECHAT_TEMPLATE_STATE = "TPL-STATE-1"
        settings.NOTIFY_TIMEOUT = 2
        cache.clear()
        yield gw
        cache.clear()
