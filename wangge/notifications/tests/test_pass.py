"""The outbox's worker pass: a hook of its own, capped per pass, its claims named after this worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from wangge.core.worker import run_pass, worker_id
from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State
from wangge.notifications.services import outbox_pass
from wangge.notifications.testing import make_message

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 4, 15, 1, 0, tzinfo=dt.UTC)


def test_the_pass_delivers_at_most_a_batch_and_reports_counts(settings: Any) -> None:
    settings.NOTIFY_OUTBOX_BATCH = 2
    settings.NOTIFY_OUTBOX_PASS_SECONDS = 0  # one round a pass
    with time_machine.travel(T0, tick=False):
        for i in range(3):
            make_message(channel="log", recipient=f"1380000111{i}", subject="诉求已受理")
        first = outbox_pass()
        second = outbox_pass()
    assert first == {"claimed": 2, "sent": 2, "failed": 0, "dead": 0, "skipped": 0}
    assert second["claimed"] == 1 and second["sent"] == 1
    assert not OutboxMessage.objects.exclude(state=State.SENT).exists()
    # Claims carry this process's worker id, so a stuck claim can be traced to its worker.
    assert all(w.startswith(worker_id() + "#") for w in DeliveryAttempt.objects.values_list("worker", flat=True))


def test_a_pass_makes_rounds_while_they_come_back_full_within_its_time(settings: Any) -> None:
    settings.NOTIFY_OUTBOX_BATCH = 2
    settings.NOTIFY_OUTBOX_PASS_SECONDS = 60
    with time_machine.travel(T0, tick=False):
        for i in range(5):
            make_message(channel="log", recipient=f"1380000111{i}", subject="诉求已受理")
        report = outbox_pass()  # rounds of 2, 2, 1: the last not full, the pass ends
    assert report == {"claimed": 5, "sent": 5, "failed": 0, "dead": 0, "skipped": 0}
    assert len({w for w in DeliveryAttempt.objects.values_list("worker", flat=True)}) == 3  # a claim token each


def test_the_pass_is_a_registered_worker_hook(settings: Any) -> None:
    assert "wangge.notifications.services.outbox_pass" in settings.WANGGE_WORKER_HOOKS
    settings.WANGGE_WORKER_HOOKS = ["wangge.notifications.services.outbox_pass"]
    with time_machine.travel(T0, tick=False):
        make_message(channel="log", recipient="13800001111", subject="诉求已受理")
        (run,) = run_pass()
    assert run.ok and run.result["sent"] == 1
    assert OutboxMessage.objects.get().state == State.SENT
