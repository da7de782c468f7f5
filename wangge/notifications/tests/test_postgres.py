"""Real concurrency on PostgreSQL: threads with their own connections, real row locks and SKIP LOCKED."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connections, transaction

from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State
from wangge.notifications.services import DeliveryReport, outbox_deliver_due, outbox_enqueue
from wangge.notifications.testing import make_message

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _run_threads(n: int, target: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_deliverers_never_send_one_message_twice(webhook: Any) -> None:
    ids = {make_message(channel="webhook", recipient="ops").pk for _ in range(120)}

    def deliver(i: int) -> list[DeliveryReport]:
        reports = []
        while True:
            report = outbox_deliver_due(limit=7, worker_id=f"worker-{i}")
            reports.append(report)
            if report.claimed == 0:
                return reports

    per_thread = _run_threads(4, deliver)
    received = Counter(webhook.message_ids())
    assert set(received) == {str(i) for i in ids}
    assert max(received.values()) == 1, [k for k, v in received.items() if v > 1]
    assert sum(r.sent for reports in per_thread for r in reports) == 120
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.SENT}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert DeliveryAttempt.objects.count() == 120
    # More than one worker did real work (the claims interleaved rather than one taking all).
    assert sum(1 for reports in per_thread if any(r.sent for r in reports)) >= 2


def test_concurrent_enqueues_with_one_dedupe_key_write_one_row() -> None:
    def enqueue(i: int) -> int | None:
        with transaction.atomic():
            m = outbox_enqueue(
                channel="log", recipient="user:1", subject=f"from {i}", body="b", dedupe_key="demand:1:accepted"
            )
            # The caller's transaction goes on after a lost race, as a demand move would.
            OutboxMessage.objects.filter(dedupe_key="nothing").count()
        return m.pk if m else None

    results = _run_threads(8, enqueue)
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == winners
