"""Delivery: claimed once, sent through the channel's backend, retried with backoff, given up after the last try."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import time_machine

from wangge.core.errors import Conflict, ValidationFailed
from wangge.notifications import services
from wangge.notifications.backends import DeliveryResult
from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State
from wangge.notifications.services import (
    backoff_delay,
    outbox_deliver_due,
    outbox_purge_sent,
    outbox_retry,
)
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 4, 15, 1, 0, tzinfo=dt.UTC)
BACKENDS = "wangge.notifications.backends."
HERE = "wangge.notifications.tests.test_delivery."


class ExplodingBackend:
    """A backend with a bug: it raises instead of returning a result."""

    def send(self, message: Any) -> DeliveryResult:
        raise RuntimeError("backend bug: KeyError 'template'")


class DyingBackend:
    """The worker process is stopped in the middle of the send (nothing in the worker catches this)."""

    def send(self, message: Any) -> DeliveryResult:
        raise KeyboardInterrupt


class SloppyBackend:
    """A backend that returns the wrong type."""

    def send(self, message: Any) -> Any:
        return True


def test_log_backend_sends_and_records_the_attempt(caplog: Any) -> None:
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="log", recipient="13800001111", subject="诉求已受理")
        with caplog.at_level(logging.INFO, logger="wangge.notifications"):
            report = outbox_deliver_due(worker_id="w1")
    assert (report.claimed, report.sent, report.failed, report.dead) == (1, 1, 0, 0)
    m.refresh_from_db()
    assert m.state == State.SENT and m.sent_at == T0 and m.attempts == 1 and m.claimed_by == ""
    attempt = DeliveryAttempt.objects.get(message=m)
    assert attempt.ok and attempt.number == 1 and attempt.worker.startswith("w1#")
    assert "138****1111" in caplog.text and "13800001111" not in caplog.text
    # Sent messages are not sent again.
    assert outbox_deliver_due().claimed == 0


def test_sms_and_wechat_stay_local_by_default() -> None:
    a = make_message(channel="sms", recipient="13800001111")
    b = make_message(channel="wechat", recipient="wechat:oABC")
    c = make_message(channel="webhook", recipient="ops")  # no NOTIFY_WEBHOOK_URL: kept local
    assert outbox_deliver_due().sent == 3
    assert set(OutboxMessage.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("state", flat=True)) == {State.SENT}


def test_only_due_messages_are_claimed_and_the_limit_holds() -> None:
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            make_message()
        later = make_message()
        OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=T0 + dt.timedelta(minutes=5))
        assert outbox_deliver_due(limit=3).sent == 3
        assert outbox_deliver_due(limit=3).sent == 2
        assert outbox_deliver_due(limit=3).claimed == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        assert outbox_deliver_due().sent == 1


def test_failure_backs_off_exponentially_then_gives_up(webhook: Any, settings: Any) -> None:
    webhook.mode = "error500"
    assert settings.NOTIFY_MAX_ATTEMPTS == 8
    now = T0
    with time_machine.travel(now, tick=False):
        m = make_message(channel="webhook", recipient="ops")
    expected_minutes = [1, 2, 4, 8, 16, 32, 60]  # doubling from 1 min, capped at 1 h
    for attempt, minutes in enumerate(expected_minutes, start=1):
        with time_machine.travel(now, tick=False):
            report = outbox_deliver_due()
        assert (report.failed, report.dead) == (1, 0), attempt
        m.refresh_from_db()
        assert m.state == State.FAILED and m.attempts == attempt
        assert "HTTP 500" in m.last_error and "upstream exploded" in m.last_error
        assert len(m.last_error) <= 300  # the answer's body is trimmed
        wait = m.next_attempt_at - now
        assert dt.timedelta(minutes=minutes * 0.9) <= wait <= dt.timedelta(minutes=minutes * 1.1), (attempt, wait)
        # Not due a second before its time.
        with time_machine.travel(m.next_attempt_at - dt.timedelta(seconds=1), tick=False):
            assert outbox_deliver_due().claimed == 0
        now = m.next_attempt_at
    with time_machine.travel(now, tick=False):
        report = outbox_deliver_due()
    assert (report.failed, report.dead) == (0, 1)
    m.refresh_from_db()
    assert m.state == State.DEAD and m.attempts == 8 and m.next_attempt_at is None
    attempts = list(DeliveryAttempt.objects.filter(message=m))
    assert [a.number for a in attempts] == list(range(1, 9))
    assert all(a.status_code == 500 and not a.ok for a in attempts)
    assert len(webhook.received) == 8
    with time_machine.travel(now + dt.timedelta(days=1), tick=False):
        assert outbox_deliver_due().claimed == 0  # the dead stay dead


def test_a_failure_then_a_success(webhook: Any) -> None:
    webhook.mode = "error500"
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="webhook", recipient="ops")
        outbox_deliver_due()
    webhook.mode = "ok"
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        assert outbox_deliver_due().sent == 1
    m.refresh_from_db()
    assert m.state == State.SENT and m.attempts == 2 and m.last_error == ""
    assert [a.ok for a in DeliveryAttempt.objects.filter(message=m)] == [False, True]
    # Both sends carried the one message id, so a receiver that got the first can drop the second.
    assert webhook.message_ids() == [str(m.pk), str(m.pk)]


@pytest.mark.parametrize("path", [HERE + "ExplodingBackend", HERE + "SloppyBackend", "no.such.Backend"])
def test_a_broken_backend_never_raises_out_of_delivery(settings: Any, path: str) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "log": path}
    broken = make_message(channel="log")
    fine = make_message(channel="sms")  # the next message in the round is still delivered
    report = outbox_deliver_due()
    assert (report.failed, report.sent) == (1, 1)
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.state == State.FAILED and broken.last_error
    assert fine.state == State.SENT
    assert DeliveryAttempt.objects.get(message=broken).ok is False


def test_a_permanent_failure_is_dead_at_once(settings: Any) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": BACKENDS + "WebhookBackend"}
    settings.NOTIFY_WEBHOOK_URL = ""
    m = make_message(channel="webhook", recipient="ops")
    assert outbox_deliver_due().dead == 1
    m.refresh_from_db()
    assert m.state == State.DEAD and m.attempts == 1 and "NOTIFY_WEBHOOK_URL" in m.last_error


def test_backoff_delay_doubles_with_jitter_and_a_cap() -> None:
    assert backoff_delay(1, rand=0.5) == dt.timedelta(minutes=1)
    assert backoff_delay(3, rand=0.5) == dt.timedelta(minutes=4)
    assert backoff_delay(1, rand=0.0) == dt.timedelta(seconds=54)
    assert backoff_delay(1, rand=1.0) == dt.timedelta(seconds=66)
    assert backoff_delay(12, rand=0.5) == dt.timedelta(hours=1)
    delays = {backoff_delay(4) for _ in range(20)}
    assert len(delays) > 1  # jitter: retries of many messages do not all land on the same second


# --- claims -----------------------------------------------------------------------------------


def test_sequential_claims_take_disjoint_messages() -> None:
    with time_machine.travel(T0, tick=False):
        ids = {make_message().pk for _ in range(10)}
        token_a, a = services._claim(limit=4, worker_id="a")
        token_b, b = services._claim(limit=4, worker_id="b")
        _, c = services._claim(limit=4, worker_id="c")
        _, d = services._claim(limit=4, worker_id="d")
    got_a, got_b, got_c = {m.pk for m in a}, {m.pk for m in b}, {m.pk for m in c}
    assert (len(got_a), len(got_b), len(got_c), d) == (4, 4, 2, [])
    assert got_a | got_b | got_c == ids and not (got_a & got_b or got_a & got_c or got_b & got_c)
    assert token_a != token_b
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.SENDING}
    assert OutboxMessage.objects.get(pk=a[0].pk).claimed_by == token_a


def test_a_message_left_sending_by_a_dead_worker_is_reclaimed_and_sent_once(webhook: Any) -> None:
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="webhook", recipient="ops")
        token_a, claimed_a = services._claim(limit=10, worker_id="crashed")
        assert [x.pk for x in claimed_a] == [m.pk]
        # Within the claim timeout nobody else touches it.
        assert outbox_deliver_due(worker_id="b").claimed == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        report = outbox_deliver_due(worker_id="b")
    assert report.sent == 1
    m.refresh_from_db()
    assert m.state == State.SENT and m.attempts == 2  # the lost try counts
    # The first worker wakes up: its claim is gone, so it does not send again.
    assert services._renew_many(messages=[claimed_a[0]], token=token_a) == {}
    assert webhook.message_ids() == [str(m.pk)]


def test_a_worker_slower_than_the_claim_timeout_does_not_overwrite_the_new_owner(webhook: Any) -> None:
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="webhook", recipient="ops")
        token_a, claimed_a = services._claim(limit=10, worker_id="slow")
        attempt_a = services._renew_many(messages=[claimed_a[0]], token=token_a).get(m.pk)
        assert attempt_a is not None
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        token_b, claimed_b = services._claim(limit=10, worker_id="fast")
        assert [x.pk for x in claimed_b] == [m.pk]
        # The slow worker finishes its old try late: the attempt is kept, the state is not its to set.
        states = services._record_many(
            sent=[(claimed_a[0], attempt_a, DeliveryResult.failure("late"), 1)], token=token_a
        )
    assert states == ["skipped"]
    m.refresh_from_db()
    assert m.state == State.SENDING and m.claimed_by == token_b
    assert DeliveryAttempt.objects.filter(message=m, error="late").exists()


def test_a_send_cut_off_by_a_dying_worker_keeps_its_attempt_row(settings: Any) -> None:
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": HERE + "DyingBackend"}
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="webhook", recipient="ops")
        with pytest.raises(KeyboardInterrupt):
            outbox_deliver_due(worker_id="dying")
    first = DeliveryAttempt.objects.get(message=m)
    assert not first.ok and first.number == 1 and "worker stopped" in first.error and first.worker.startswith("dying#")
    settings.NOTIFY_BACKENDS = {**settings.NOTIFY_BACKENDS, "webhook": BACKENDS + "LogBackend"}
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        assert outbox_deliver_due(worker_id="next").sent == 1
    attempts = list(DeliveryAttempt.objects.filter(message=m).order_by("number").values_list("number", "ok"))
    assert attempts == [(1, False), (2, True)]


def test_a_stale_claim_on_the_last_try_goes_dead(settings: Any) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 2
    with time_machine.travel(T0, tick=False):
        m = make_message()
        OutboxMessage.objects.filter(pk=m.pk).update(attempts=1)
        services._claim(limit=10, worker_id="crashed")  # try 2 of 2, then the worker dies
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        assert outbox_deliver_due().claimed == 0
    m.refresh_from_db()
    assert m.state == State.DEAD and "worker stopped" in m.last_error


# --- retry and purge --------------------------------------------------------------------------


def test_an_administrator_requeues_a_dead_message(webhook: Any) -> None:
    webhook.mode = "error500"
    with time_machine.travel(T0, tick=False):
        m = make_message(channel="webhook", recipient="ops")
        OutboxMessage.objects.filter(pk=m.pk).update(attempts=7)
        outbox_deliver_due()
        m.refresh_from_db()
        assert m.state == State.DEAD
    webhook.mode = "ok"
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        m = outbox_retry(message=m)
        assert (m.state, m.attempts, m.next_attempt_at) == (State.PENDING, 0, T0 + dt.timedelta(days=2))
        assert outbox_deliver_due().sent == 1
    m.refresh_from_db()
    assert m.state == State.SENT
    assert DeliveryAttempt.objects.filter(message=m).count() == 2  # history is kept across the requeue
    with pytest.raises(Conflict):
        outbox_retry(message=m)  # a sent message is not sent again


def test_purge_deletes_only_old_sent_messages_with_their_attempts() -> None:
    with time_machine.travel(T0, tick=False):
        old_sent = make_message()
        old_dead = make_message()
        outbox_deliver_due(limit=1)
        OutboxMessage.objects.filter(pk=old_dead.pk).update(state=State.DEAD)
    with time_machine.travel(T0 + dt.timedelta(days=60), tick=False):
        recent = make_message()
        outbox_deliver_due()
    with time_machine.travel(T0 + dt.timedelta(days=91), tick=False):
        assert outbox_purge_sent(older_than_days=90) == 1
        assert outbox_purge_sent(older_than_days=90) == 0
    remaining = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert old_sent.pk not in remaining and {old_dead.pk, recent.pk} <= remaining
    assert not DeliveryAttempt.objects.filter(message_id=old_sent.pk).exists()
    with pytest.raises(ValidationFailed):
        outbox_purge_sent(older_than_days=0)
