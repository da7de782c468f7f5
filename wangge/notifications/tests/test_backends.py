"""The HTTP adapters against a real local server: signatures, request shapes, errors, timeouts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine

from wangge.notifications.backends import (
    SmsGatewayBackend,
    WebhookBackend,
    sign,
    sms_phones,
    sms_text,
    verify_signature,
)
from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State
from wangge.notifications.services import outbox_deliver_due
from wangge.notifications.testing import make_message

from .conftest import BACKENDS, SECRET

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 4, 15, 1, 0, tzinfo=dt.UTC)


# --- webhook --------------------------------------------------------------------------------------


def test_webhook_posts_signed_json_that_the_receiver_can_verify(webhook: Any) -> None:
    with time_machine.travel(T0, tick=False):
        m = make_message(
            channel="webhook",
            recipient="ops",
            subject="诉求已转派",
            body="请供电公司处理。",
            kind="demand.dispatched",
            payload={"code": "LY-20260415-000123"},
        )
        assert outbox_deliver_due().sent == 1
    [req] = webhook.received
    assert req.path == "/hook"
    assert req.signature_ok is True  # the server recomputed the HMAC and accepted it
    timestamp = req.headers["X-Wangge-Timestamp"]
    assert timestamp == str(int(T0.timestamp()))
    expected = (
        "sha256=" + __import__("hmac").new(SECRET.encode(), timestamp.encode() + b"." + req.body, "sha256").hexdigest()
    )
    assert req.headers["X-Wangge-Signature"] == expected
    assert req.headers["X-Wangge-Message-Id"] == str(m.pk)
    assert req.headers["Content-Type"].startswith("application/json")
    data = req.json
    assert data["id"] == m.pk and data["kind"] == "demand.dispatched"
    assert data["subject"] == "诉求已转派" and data["body"] == "请供电公司处理。"
    assert data["payload"] == {"code": "LY-20260415-000123"}
    assert data["created_at"].startswith("2026-04-15T01:00:00")
    assert DeliveryAttempt.objects.get(message=m).status_code == 200


def test_a_wrong_secret_is_refused_by_the_receiver(webhook: Any, settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_SECRET = "not-the-receivers-secret"
    m = make_message(channel="webhook", recipient="ops")
    assert outbox_deliver_due().failed == 1
    assert webhook.received[0].signature_ok is False
    m.refresh_from_db()
    assert m.state == State.FAILED and "401" in m.last_error and "bad signature" in m.last_error


def test_verify_signature_rejects_tampering_other_secrets_and_replays() -> None:
    body = json.dumps({"id": 1, "body": "樟树"}).encode()
    sig = sign("s3cret", "1776214800", body)
    assert verify_signature(secret="s3cret", timestamp="1776214800", body=body, signature=sig)
    assert not verify_signature(secret="s3cret", timestamp="1776214800", body=body + b" ", signature=sig)
    assert not verify_signature(secret="other", timestamp="1776214800", body=body, signature=sig)
    assert not verify_signature(secret="s3cret", timestamp="1776214801", body=body, signature=sig)
    assert verify_signature(secret="s3cret", timestamp="1776214800", body=body, signature=sig, now=1776214900)
    assert not verify_signature(secret="s3cret", timestamp="1776214800", body=body, signature=sig, now=1776224800)


def test_without_a_secret_the_webhook_is_sent_unsigned(webhook: Any, settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_SECRET = ""
    make_message(channel="webhook", recipient="ops")
    assert outbox_deliver_due().sent == 1
    assert "X-Wangge-Signature" not in webhook.received[0].headers


def test_webhook_recipient_may_be_a_url_or_a_named_endpoint(webhook: Any, settings: Any) -> None:
    settings.NOTIFY_WEBHOOK_ENDPOINTS = {"dingtalk-relay": webhook.url + "/relay"}
    make_message(channel="webhook", recipient=webhook.url + "/direct")
    make_message(channel="webhook", recipient="dingtalk-relay")
    make_message(channel="webhook", recipient="unknown-name")
    assert outbox_deliver_due().sent == 3
    assert [r.path for r in webhook.received] == ["/direct", "/relay", "/hook"]


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [("error500", 500, "HTTP 500"), ("redirect", 302, "HTTP 302"), ("slow", None, "timed out")],
)
def test_webhook_failures_are_recorded_not_raised(
    webhook: Any, settings: Any, mode: str, status: int | None, error: str
) -> None:
    webhook.mode = mode
    webhook.sleep_seconds = 1.5
    settings.NOTIFY_TIMEOUT = 0.3
    m = make_message(channel="webhook", recipient="ops")
    report = outbox_deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    attempt = DeliveryAttempt.objects.get(message=m)
    assert attempt.status_code == status and error in attempt.error
    assert [r.path for r in webhook.received] == ["/hook"]  # a redirect is not followed


def test_a_refused_connection_is_a_failure(settings: Any) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": BACKENDS + "WebhookBackend"}
    settings.NOTIFY_WEBHOOK_URL = "http://127.0.0.1:9/hook"  # discard port: nothing listens
    m = make_message(channel="webhook", recipient="ops")
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert "cannot connect" in m.last_error or "Connection" in m.last_error


def test_webhook_backend_is_a_plain_object_that_returns_a_result(webhook: Any) -> None:
    m = make_message(channel="webhook", recipient="ops")
    result = WebhookBackend().send(m)
    assert result.ok and result.status_code == 200


# --- SMS gateway ----------------------------------------------------------------------------------


def test_sms_request_shape(sms: Any) -> None:
    long_body = (
        "您反映的金沙1号微网格樟树枯死问题已由园林绿化部门办结，请在收到本短信后七日内对办理结果进行评价，谢谢您的支持与监督。"
        * 2
    )
    m = make_message(channel="sms", recipient="+86 138 0000 1111", body=long_body)
    assert outbox_deliver_due().sent == 1
    [req] = sms.received
    assert req.path == "/sms/send"
    assert req.headers["X-Api-Key"] == "sms-key-123"
    data = req.json
    assert data["phone_numbers"] == "13800001111"
    assert data["sign_name"] == "浏阳网格"
    assert data["template_code"] == "SMS_0001"
    assert data["out_id"] == str(m.pk)
    content = data["template_param"]["content"]
    assert len("【浏阳网格】" + content) == 70 and content.endswith("…")  # one segment, never split
    assert long_body.startswith(content[:-1])


def test_sms_template_and_params_from_the_payload_and_several_numbers(sms: Any) -> None:
    make_message(
        channel="sms",
        recipient="13800001111,13900002222",
        payload={"template_code": "SMS_RESOLVED", "template_param": {"code": "LY-20260415-000123"}},
    )
    assert outbox_deliver_due().sent == 1
    data = sms.received[0].json
    assert data["phone_numbers"] == "13800001111,13900002222"
    assert data["template_code"] == "SMS_RESOLVED"
    assert data["template_param"] == {"code": "LY-20260415-000123"}


def test_sms_bad_phone_is_dead_without_calling_the_gateway(sms: Any) -> None:
    bad = make_message(channel="sms", recipient="0731-8888888")  # a landline cannot get SMS
    user = make_message(channel="sms", recipient="user:12")
    report = outbox_deliver_due()
    assert report.dead == 2 and sms.received == []
    bad.refresh_from_db()
    user.refresh_from_db()
    assert bad.state == State.DEAD and "11-digit" in bad.last_error
    assert "8888888" not in bad.last_error  # masked even in errors
    assert user.state == State.DEAD


@pytest.mark.parametrize(
    ("mode", "state", "error"),
    [
        ("gateway_error", State.FAILED, "isv.BUSINESS_LIMIT_CONTROL"),  # rate-limited: try again later
        ("bad_phone", State.DEAD, "isv.MOBILE_NUMBER_ILLEGAL"),  # the gateway refuses the number for good
        ("error500", State.FAILED, "HTTP 500"),
        ("not_json", State.FAILED, "non-JSON"),
        ("slow", State.FAILED, "timed out"),
    ],
)
def test_sms_gateway_errors(sms: Any, settings: Any, mode: str, state: str, error: str) -> None:
    sms.mode = mode
    sms.sleep_seconds = 1.5
    settings.NOTIFY_TIMEOUT = 0.3
    m = make_message(channel="sms", recipient="13800001111")
    outbox_deliver_due()
    m.refresh_from_db()
    assert m.state == state and error in m.last_error
    assert len(sms.received) == 1


def test_sms_without_a_gateway_url_is_dead(settings: Any) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "sms": BACKENDS + "SmsGatewayBackend"}
    settings.NOTIFY_SMS_URL = ""
    m = make_message(channel="sms", recipient="13800001111")
    assert SmsGatewayBackend().send(m).permanent
    assert outbox_deliver_due().dead == 1


def test_sms_helpers() -> None:
    assert sms_phones("13800001111") == ["13800001111"]
    assert sms_phones("+8613800001111，13900002222") == ["13800001111", "13900002222"]
    assert sms_phones("12800001111") == []  # no such mobile prefix
    assert sms_phones("13800001111,1380000") == []  # one bad number spoils the lot
    assert sms_text("浏阳网格", "短消息") == "短消息"
    assert len(sms_text("", "字" * 100)) == 70
    assert len(sms_text("浏阳网格", "字" * 100)) == 64


# --- WeChat template relay ------------------------------------------------------------------------


def test_wechat_template_request_and_errcode(settings: Any, gateway: Any) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "wechat": BACKENDS + "WeChatTemplateBackend"}
    settings.NOTIFY_WECHAT_URL = gateway.url + "/wechat"
    settings.NOTIFY_WECHAT_KEY = "wx-key"
    settings.NOTIFY_WECHAT_TEMPLATE = "TPL-1"
    ok = make_message(channel="wechat", recipient="wechat:oAbC123", subject="诉求已受理", body="网格长已受理")
    assert outbox_deliver_due().sent == 1
    data = gateway.received[0].json
    assert data["touser"] == "oAbC123" and data["template_id"] == "TPL-1"
    assert data["data"]["first"]["value"] == "诉求已受理"
    assert gateway.received[0].headers["X-Api-Key"] == "wx-key"
    gateway.mode = "wechat_error"
    bad = make_message(channel="wechat", recipient="wechat:oGone")
    assert outbox_deliver_due().failed == 1
    bad.refresh_from_db()
    assert "43004" in bad.last_error
    assert OutboxMessage.objects.get(pk=ok.pk).state == State.SENT
