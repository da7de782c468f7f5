"""A real HTTP gateway on 127.0.0.1 for the delivery backends: it checks signatures and misbehaves on request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wangge.notifications.testing import BACKENDS, SECRET, Gateway, local_gateway

__all__ = ["BACKENDS", "SECRET", "Gateway"]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with local_gateway() as gw:
        yield gw


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


@pytest.fixture
def wecom(settings: Any, gateway: Gateway) -> Iterator[Gateway]:
    """The wecom channel through the real WeCom adapter to the test gateway; the token cache starts empty."""
    from django.core.cache import cache

    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "wecom": BACKENDS + "WeComBackend"}
    settings.NOTIFY_WECOM_BASE_URL = gateway.url
    settings.NOTIFY_WECOM_CORP_ID = gateway.wecom_corp_id
    settings.NOTIFY_WECOM_SECRET = gateway.wecom_secret
    settings.NOTIFY_WECOM_AGENT_ID = "1000002"
    settings.NOTIFY_TIMEOUT = 2
    cache.clear()
    yield gateway
    cache.clear()


@pytest.fixture
def wechat_mp(settings: Any, gateway: Gateway) -> Iterator[Gateway]:
    """The wechat_mp channel through the real official-account adapter to the test gateway; no cached token."""
    from django.core.cache import cache

    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "wechat_mp": BACKENDS + "wechat_mp.WeChatOfficialBackend"}
    settings.NOTIFY_WECHAT_BASE_URL = gateway.url
    settings.WANGGE_WECHAT_APP_ID = gateway.wechat_app_id
    settings.WANGGE_WECHAT_APP_SECRET = gateway.wechat_secret
    settings.WANGGE_WECHAT_TEMPLATE_STATE = "TPL-STATE-1"
    settings.NOTIFY_TIMEOUT = 2
    cache.clear()
    yield gateway
    cache.clear()
