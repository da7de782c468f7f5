"""The official account's (公众号) template messages against a local server speaking WeChat's wire format."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from wangge.notifications.models import State
from wangge.notifications.services import outbox_deliver_due
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db


def _message(recipient: str = "wechat:oRESIDENT0001", **overrides: Any) -> Any:
    data = {
        "channel": "wechat_mp",
        "recipient": recipient,
        "subject": "诉求 LY-20260415-000123",
        "body": "您反映的问题已受理。",
        "payload": {"code": "LY-20260415-000123", "url": "https://wangge.example.cn/t/abcdefghij"},
    }
    data.update(overrides)
    return make_message(**data)


def _query(request: Any) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))


def test_a_template_message_goes_to_the_openid_with_one_cached_token(wechat_mp: Any) -> None:
    first = _message()
    _message(recipient="wechat:oRESIDENT0002")
    assert outbox_deliver_due().sent == 2
    [gettoken] = wechat_mp.wechat_gettokens()
    assert _query(gettoken) == {"grant_type": "client_credential", "appid": "wxapp0001", "secret": "wechat-app-secret"}
    sends = wechat_mp.wechat_sends()
    assert [_query(r)["access_token"] for r in sends] == ["WXTOKEN-1", "WXTOKEN-1"]
    data = sends[0].json
    assert data["touser"] == "oRESIDENT0001" and data["template_id"] == "TPL-STATE-1"
    assert data["url"] == "https://wangge.example.cn/t/abcdefghij"
    assert data["data"]["keyword1"] == {"value": "LY-20260415-000123"}
    assert data["data"]["keyword2"] == {"value": "您反映的问题已受理。"}
    first.refresh_from_db()
    assert first.state == State.SENT


def test_an_expired_token_is_refreshed_once_and_the_message_sent(wechat_mp: Any) -> None:
    _message()
    assert outbox_deliver_due().sent == 1
    wechat_mp.expire_wechat_tokens()
    m = _message()
    assert outbox_deliver_due().sent == 1
    assert [_query(r)["access_token"] for r in wechat_mp.wechat_sends()] == ["WXTOKEN-1", "WXTOKEN-1", "WXTOKEN-2"]
    assert len(wechat_mp.wechat_gettokens()) == 2
    m.refresh_from_db()
    assert m.state == State.SENT


def test_a_user_who_unfollowed_is_dead_with_the_reason(wechat_mp: Any) -> None:
    m = _message(recipient="wechat:oGONE00000001")
    assert outbox_deliver_due().dead == 1
    m.refresh_from_db()
    assert m.state == State.DEAD and "43004" in m.last_error and "does not follow" in m.last_error


def test_a_timeout_is_retried_later(wechat_mp: Any, settings: Any) -> None:
    settings.NOTIFY_TIMEOUT = 0.2
    wechat_mp.mode, wechat_mp.sleep_seconds = "slow", 1.0
    m = _message()
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert m.state == State.FAILED and "timed out" in m.last_error and m.next_attempt_at is not None


def test_wrong_credentials_are_a_retryable_failure_that_names_the_errcode(wechat_mp: Any, settings: Any) -> None:
    settings.WANGGE_WECHAT_APP_SECRET = "not-the-secret"
    m = _message()
    assert outbox_deliver_due().failed == 1
    m.refresh_from_db()
    assert "40013" in m.last_error and wechat_mp.wechat_sends() == []


def test_a_recipient_that_is_not_an_openid_is_dead_at_once(wechat_mp: Any) -> None:
    m = _message(recipient="user:12")
    assert outbox_deliver_due().dead == 1
    m.refresh_from_db()
    assert "wechat:<openid>" in m.last_error and wechat_mp.received == []
