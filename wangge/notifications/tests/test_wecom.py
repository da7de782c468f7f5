"""The WeCom (企业微信) adapter against a local server speaking its wire format: token, text card, errors."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from wangge.notifications.backends import WeComBackend, trim_bytes
from wangge.notifications.models import DeliveryAttempt, State
from wangge.notifications.services import outbox_deliver_due
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db

CARD = {
    "title": "新诉求待接单 LY-20260415-000123",
    "description": '<div class="gray">限时：2026-04-15 17:30</div><div class="normal">樟树枯死</div>',
    "url": "https://wangge.example.cn/demands/7/",
    "btntxt": "详情",
}


def _card_message(recipient: str = "wecom:zhangjianguo", **overrides: Any) -> Any:
    data = {"channel": "wecom", "recipient": recipient, "subject": CARD["title"], "payload": {"textcard": CARD}}
    data.update(overrides)
    return make_message(**data)


def _token_of(request: Any) -> str:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))["access_token"]


def test_a_text_card_goes_to_the_member_with_a_token_fetched_once_and_reused(wecom: Any) -> None:
    first = _card_message()
    second = _card_message(recipient="wecom:lisi")
    assert outbox_deliver_due().sent == 2
    [gettoken] = wecom.wecom_gettokens()  # one token for both messages
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(gettoken.path).query))
    assert query == {"corpid": "wwcorp0001", "corpsecret": "wecom-app-secret"}
    sends = wecom.wecom_sends()
    assert [_token_of(r) for r in sends] == ["TOKEN-1", "TOKEN-1"]
    data = sends[0].json
    assert data["touser"] == "zhangjianguo" and data["msgtype"] == "textcard" and data["agentid"] == 1000002
    assert data["textcard"] == CARD
    assert sends[1].json["touser"] == "lisi"
    # A later pass (a new backend call, as another worker would make) still uses the cached token.
    _card_message()
    assert outbox_deliver_due().sent == 1
    assert len(wecom.wecom_gettokens()) == 1 and _token_of(wecom.wecom_sends()[-1]) == "TOKEN-1"
    for m in (first, second):
        m.refresh_from_db()
        assert m.state == State.SENT


def test_an_expired_token_is_refreshed_once_and_the_message_sent(wecom: Any) -> None:
    _card_message()
    assert outbox_deliver_due().sent == 1
    wecom.expire_wecom_tokens()
    m = _card_message()
    assert outbox_deliver_due().sent == 1
    assert [_token_of(r) for r in wecom.wecom_sends()] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]
    assert len(wecom.wecom_gettokens()) == 2
    assert DeliveryAttempt.objects.get(message=m).ok


def test_a_token_wecom_keeps_refusing_is_one_refresh_then_a_retry_later(wecom: Any) -> None:
    wecom.wecom_dead_tokens = True
    m = _card_message()
    assert outbox_deliver_due().failed == 1
    # One refresh, not a loop: two tokens, two sends, then the outbox's backoff takes over.
    assert len(wecom.wecom_gettokens()) == 2 and len(wecom.wecom_sends()) == 2
    m.refresh_from_db()
    assert m.state == State.FAILED and "42001" in m.last_error and m.next_attempt_at is not None


def test_other_errcodes_are_retried_with_backoff(wecom: Any) -> None:
    wecom.mode = "wecom_error"
    m = _card_message()
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert m.state == State.FAILED and "45009" in m.last_error and m.next_attempt_at is not None
    assert m.attempts == 1


def test_a_timeout_is_retried(wecom: Any, settings: Any) -> None:
    wecom.mode = "slow"
    wecom.sleep_seconds = 1.5
    settings.NOTIFY_TIMEOUT = 0.3
    m = _card_message()
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert m.state == State.FAILED and "timed out" in m.last_error


def test_an_unknown_member_is_dead_with_the_reason(wecom: Any) -> None:
    m = _card_message(recipient="wecom:nobody.here")
    report = outbox_deliver_due()
    assert (report.sent, report.failed, report.dead) == (0, 0, 1)
    m.refresh_from_db()
    assert m.state == State.DEAD
    assert "WeCom user id does not exist: nobody.here" in m.last_error
    assert len(wecom.wecom_sends()) == 1  # not retried


def test_a_wrong_secret_fails_at_the_token_and_is_retried(wecom: Any, settings: Any) -> None:
    settings.NOTIFY_WECOM_SECRET = "not-the-apps-secret"
    m = _card_message()
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert "gettoken errcode 40001" in m.last_error and wecom.wecom_sends() == []


def test_without_configuration_or_with_a_foreign_recipient_the_message_is_dead(wecom: Any, settings: Any) -> None:
    foreign = _card_message(recipient="user:12")
    assert WeComBackend().send(foreign).permanent
    settings.NOTIFY_WECOM_CORP_ID = ""
    unconfigured = _card_message()
    result = WeComBackend().send(unconfigured)
    assert result.permanent and "NOTIFY_WECOM_CORP_ID" in result.error
    assert wecom.received == []


def test_a_card_without_payload_is_made_from_subject_and_body_within_wecoms_limits(wecom: Any) -> None:
    make_message(channel="wecom", recipient="wecom:lisi", subject="标题" * 100, body="正文" * 400)
    assert outbox_deliver_due().sent == 1
    card = wecom.wecom_sends()[0].json["textcard"]
    assert len(card["title"].encode()) <= 128 and card["title"].endswith("…")
    assert len(card["description"].encode()) <= 512
    assert card["url"] and card["btntxt"] == "详情"
    assert trim_bytes("樟树", 6) == "樟树" and trim_bytes("樟树枯死", 7) == "樟…"
