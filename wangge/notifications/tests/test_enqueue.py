"""Enqueue only writes a row, in the caller's transaction; a repeated dedupe key writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction

from wangge.core.errors import ValidationFailed
from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State
from wangge.notifications.services import outbox_enqueue
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 4, 15, 9, 0, tzinfo=dt.UTC)


class Boom(Exception):
    pass


def test_enqueue_writes_a_pending_message_due_now() -> None:
    with time_machine.travel(T0, tick=False):
        m = outbox_enqueue(
            channel="sms",
            recipient=" 13800001111 ",
            subject="诉求已办结",
            body="请对办理结果评价。",
            payload={"demand": "LY-20260415-000123", "when": T0},
            kind="demand.resolved",
            area_path="430181/430181100/",
            dedupe_key="demand:1:resolved",
        )
    assert m is not None
    m.refresh_from_db()
    assert (m.state, m.attempts, m.recipient) == (State.PENDING, 0, "13800001111")
    assert m.next_attempt_at == T0 and m.created_at == T0
    assert m.payload["demand"] == "LY-20260415-000123"
    assert m.payload["when"].startswith("2026-04-15T09:00")  # datetimes are stored as ISO text
    assert not DeliveryAttempt.objects.exists()


def test_enqueue_in_a_transaction_that_rolls_back_leaves_nothing() -> None:
    with pytest.raises(Boom), transaction.atomic():
        make_message(dedupe_key="k1")
        make_message()
        assert OutboxMessage.objects.count() == 2
        raise Boom
    assert OutboxMessage.objects.count() == 0
    # The key of a rolled-back message is free again.
    assert outbox_enqueue(channel="log", recipient="user:1", subject="s", body="b", dedupe_key="k1") is not None


def test_a_repeated_dedupe_key_returns_none_and_writes_nothing() -> None:
    first = make_message(dedupe_key="demand:7:accepted")
    again = outbox_enqueue(
        channel="log", recipient="user:2", subject="other", body="other", dedupe_key="demand:7:accepted"
    )
    assert again is None
    assert list(OutboxMessage.objects.values_list("id", flat=True)) == [first.pk]
    # No key means no deduplication: the same text twice is two messages.
    make_message()
    make_message()
    assert OutboxMessage.objects.count() == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": "fax", "recipient": "x"}, "channel"),
        ({"channel": "sms", "recipient": "   "}, "recipient"),
        ({"channel": "log", "recipient": "u", "payload": ["not", "a", "dict"]}, "payload"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        outbox_enqueue(subject="s", body="b", **kwargs)
    assert err.value.field == field
    assert "/" in str(err.value)  # Chinese / English
    assert OutboxMessage.objects.count() == 0


def test_enqueue_never_calls_a_backend(settings: Any) -> None:
    # A webhook to nowhere: enqueue must not try it (a failed delivery never fails a user's action).
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": "wangge.notifications.backends.WebhookBackend"}
    settings.NOTIFY_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"
    m = make_message(channel="webhook", recipient="ops")
    m.refresh_from_db()
    assert m.state == State.PENDING and m.attempts == 0
    assert not DeliveryAttempt.objects.exists()


def test_a_batch_writes_its_messages_with_one_insert_and_nothing_when_it_raises() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wangge.notifications.services import outbox_batch

    with CaptureQueriesContext(connection) as captured, outbox_batch():
        outbox_enqueue(channel="sms", recipient="13800001111", subject="a", body="one")
        outbox_enqueue(channel="wechat", recipient="user:1", subject="b", body="two")
        assert OutboxMessage.objects.count() == 0  # not yet written
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert sorted(OutboxMessage.objects.values_list("body", flat=True)) == ["one", "two"]
    with pytest.raises(Boom), outbox_batch():
        outbox_enqueue(channel="sms", recipient="13800001111", subject="c", body="three")
        raise Boom
    assert OutboxMessage.objects.count() == 2
