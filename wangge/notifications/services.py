"""Writers of the outbox: enqueue in the caller's transaction, deliver later, retry, requeue, purge.

Delivery is at least once: a message is claimed (conditional UPDATE; `FOR UPDATE SKIP LOCKED` on
PostgreSQL) before it is sent, the claim is renewed just before each send, and a claim left by a
crashed worker is taken back after NOTIFY_CLAIM_TIMEOUT_SECONDS. Receivers that must not act
twice use the message id (webhook header `X-Wangge-Message-Id`, SMS `out_id`).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core import worker as core_worker
from wangge.core.errors import Conflict, ValidationFailed
from wangge.notifications.backends import DeliveryResult, backend_for, trim
from wangge.notifications.models import Channel, DeliveryAttempt, OutboxMessage, State

logger = logging.getLogger("wangge.notifications")

CHANNELS = frozenset(c.value for c in Channel)
DUE_STATES = (State.PENDING, State.FAILED)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery round did (claimed = sent + failed + dead + skipped)."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"outbox: {self.sent} sent, {self.failed} failed, {self.dead} dead"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# Messages enqueued inside `outbox_batch()` (without a dedupe key) wait here to be written by one INSERT.
_batch: ContextVar[list[OutboxMessage] | None] = ContextVar("wangge_outbox_batch", default=None)


@contextmanager
def outbox_batch() -> Iterator[list[OutboxMessage]]:
    """Write the messages enqueued inside the block with one INSERT when it ends (nothing if it raises).

    Intake tells the holder and the resident: one statement instead of one per message. A message with a
    dedupe key is still written at once (its uniqueness is checked when it is enqueued). The list it gives
    holds the batch's rows once the block has ended (with their ids where the database returns them).
    """
    written: list[OutboxMessage] = []
    token = _batch.set([])
    try:
        yield written
        rows = _batch.get() or []
    finally:
        _batch.reset(token)
    if rows:
        written.extend(OutboxMessage.objects.bulk_create(rows))


# Not wrapped in atomic: it validates, then writes one row (atomic by itself) in the caller's
# transaction. A savepoint per message cost two statements on every demand move; only the dedupe
# path below needs one.
def outbox_enqueue(
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    kind: str = "",
    area_path: str = "",
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Write a message in the caller's transaction (nothing is sent here); a repeated dedupe_key writes nothing."""
    if channel not in CHANNELS:
        raise ValidationFailed(
            _("unknown notification channel: %(channel)s"), params={"channel": channel}, field="channel"
        )
    recipient = (recipient or "").strip()
    if not recipient:
        raise ValidationFailed(_("a notification needs a recipient"), field="recipient")
    if payload is not None and not isinstance(payload, dict):
        raise ValidationFailed(_("payload must be a dict"), field="payload")
    if dedupe_key is not None and OutboxMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    now = clock.now()
    message = OutboxMessage(
        channel=channel,
        recipient=recipient[:500],
        subject=(subject or "")[:200],
        body=body or "",
        payload=payload or {},
        kind=kind[:64],
        area_path=area_path,
        dedupe_key=dedupe_key,
        state=State.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key is None:
        pending = _batch.get()
        if pending is not None:
            pending.append(message)
        else:
            message.save(force_insert=True)
        return message
    # Two transactions with one key at once: the unique index lets one in; the loser's savepoint
    # rolls back alone, so the caller's transaction carries on.
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return None
    return message


def backoff_delay(attempts: int, *, rand: float | None = None) -> dt.timedelta:
    """Delay before try `attempts + 1`: base × 2^(attempts−1) capped, ±10 % jitter so retries do not stampede."""
    base = float(_setting("NOTIFY_BACKOFF_BASE_SECONDS", 60))
    cap = float(_setting("NOTIFY_BACKOFF_MAX_SECONDS", 3600))
    seconds = min(cap, base * (2 ** max(attempts - 1, 0)))
    r = random.random() if rand is None else rand
    return dt.timedelta(seconds=seconds * (0.9 + 0.2 * r))


def _no_flush_wait() -> None:
    """Inside the delivery's own bookkeeping transactions: commit without waiting for the WAL to reach disk.

    On PostgreSQL (`SET LOCAL synchronous_commit TO OFF`, this transaction only) a commit otherwise
    waits for a disk flush, 4–5 ms each on the scale machine, three of them per message: most of a
    round of 200. Only a crash of the database server itself (not of the worker) can lose such a
    commit, within a fraction of a second of it; delivery stays at least once: a lost claim leaves the
    message due, a lost renewal or record leaves it `sending` until the claim timeout, when it is
    claimed and sent again (receivers deduplicate by message id). The messages themselves are enqueued
    by the callers' own transactions, with their durability. Inside a caller's transaction (a test,
    a view) nothing changes: the setting would be that whole transaction's.
    """
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claim(*, limit: int, worker_id: str) -> tuple[str, list[OutboxMessage]]:
    """Take up to `limit` due messages for this round; returns the round's claim token and the messages."""
    now = clock.now()
    stale_before = now - dt.timedelta(seconds=int(_setting("NOTIFY_CLAIM_TIMEOUT_SECONDS", 300)))
    max_attempts = int(_setting("NOTIFY_MAX_ATTEMPTS", 8))
    # The token tells this round's rows from any other worker's, even one with the same worker_id.
    token = f"{worker_id[:90]}#{uuid.uuid4().hex[:8]}"
    due = Q(state__in=DUE_STATES, next_attempt_at__lte=now) | Q(state=State.SENDING, claimed_at__lt=stale_before)
    with transaction.atomic():
        _no_flush_wait()
        # A message whose worker died during its last allowed try would be retried forever if
        # that try kills workers: give up on it instead of sending once more.
        OutboxMessage.objects.filter(
            state=State.SENDING, claimed_at__lt=stale_before, attempts__gte=max_attempts
        ).update(state=State.DEAD, last_error="worker stopped during the last try", next_attempt_at=None)
        candidates = OutboxMessage.objects.filter(due).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            # Rows another worker is claiming right now are passed over, not waited for.
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return token, []
        # Compare-and-set: the UPDATE repeats the due condition, so a row someone else claimed
        # between our SELECT and this UPDATE is left alone (SQLite serialises writers anyway).
        OutboxMessage.objects.filter(due, id__in=ids).update(
            state=State.SENDING,
            claimed_by=token,
            claimed_at=now,
            # Counted at claim time, so a message that crashes its worker still reaches the limit.
            attempts=F("attempts") + 1,
        )
    claimed = list(
        OutboxMessage.objects.filter(claimed_by=token, state=State.SENDING).order_by("next_attempt_at", "id")
    )
    return token, claimed


# What an attempt row says until the send answers: if it stays, the worker died during the send.
INTERRUPTED = "no answer recorded: the worker stopped during this try (or is still sending)"


def _send(message: OutboxMessage) -> tuple[DeliveryResult, int]:
    """Call the channel's backend; any exception becomes a failed result (a backend never stops the round)."""
    started = time.perf_counter()
    try:
        result = backend_for(message.channel).send(message)
        if not isinstance(result, DeliveryResult):
            result = DeliveryResult.failure(f"backend returned {type(result).__name__}, not a DeliveryResult")
    except Exception as exc:
        logger.exception("notification #%s: backend for %s raised", message.pk, message.channel)
        result = DeliveryResult.failure(f"{type(exc).__name__}: {exc}")
    return result, int((time.perf_counter() - started) * 1000)


def _outcome(message: OutboxMessage, result: DeliveryResult, now: dt.datetime) -> dict[str, Any]:
    """The message's fields after a send that gave `result`."""
    max_attempts = int(_setting("NOTIFY_MAX_ATTEMPTS", 8))
    fields: dict[str, Any] = {"claimed_by": "", "claimed_at": None}
    if result.ok:
        fields.update(state=State.SENT, sent_at=now, last_error="", next_attempt_at=None)
    elif result.permanent or message.attempts >= max_attempts:
        fields.update(state=State.DEAD, last_error=result.error, next_attempt_at=None)
    else:
        fields.update(
            state=State.FAILED, last_error=result.error, next_attempt_at=now + backoff_delay(message.attempts)
        )
    return fields


Sent = tuple[OutboxMessage, DeliveryAttempt, DeliveryResult, int]


def _record_many(*, sent: list[Sent], token: str) -> list[str]:
    """Complete the attempts and move the messages on, in one transaction; returns the state each reached.

    A message whose claim was taken back while we sent (we were slower than the claim timeout) is
    "skipped": the other worker owns it now; its attempt row still tells what happened.
    """
    if not sent:
        return []
    now = clock.now()
    states: list[str] = []
    delivered = [entry for entry in sent if entry[2].ok]
    with transaction.atomic():
        _no_flush_wait()
        if delivered:
            # The common case in two statements for the group: the attempts completed, the messages sent.
            attempts = [a.pk for _m, a, _r, _d in delivered]
            DeliveryAttempt.objects.filter(pk__in=attempts).update(
                ok=True,
                # Cast: a CASE whose branches are all NULL is text to PostgreSQL.
                status_code=Cast(
                    Case(*(When(pk=a.pk, then=Value(r.status_code)) for _m, a, r, _d in delivered)), IntegerField()
                ),
                error=Case(
                    *(When(pk=a.pk, then=Value(trim(r.error, 1000))) for _m, a, r, _d in delivered),
                    output_field=TextField(),
                ),
                duration_ms=Cast(Case(*(When(pk=a.pk, then=Value(d)) for _m, a, _r, d in delivered)), IntegerField()),
            )
            ours = OutboxMessage.objects.filter(
                pk__in=[m.pk for m, _a, _r, _d in delivered], claimed_by=token, state=State.SENDING
            )
            mine = set(ours.select_for_update().values_list("pk", flat=True))
            OutboxMessage.objects.filter(pk__in=mine).update(**_outcome(delivered[0][0], delivered[0][2], now))
            states.extend(State.SENT if m.pk in mine else "skipped" for m, _a, _r, _d in delivered)
        for message, attempt, result, duration_ms in sent:
            if result.ok:
                continue
            fields = _outcome(message, result, now)
            DeliveryAttempt.objects.filter(pk=attempt.pk).update(
                ok=result.ok, status_code=result.status_code, error=trim(result.error, 1000), duration_ms=duration_ms
            )
            moved = OutboxMessage.objects.filter(pk=message.pk, claimed_by=token, state=State.SENDING).update(**fields)
            states.append(str(fields["state"]) if moved else "skipped")
    return states


# Messages renewed together (their attempts written in one statement), then sent one by one, then
# recorded together: two short transactions per group instead of two per message. A group is sent
# well within the claim timeout (20 × NOTIFY_TIMEOUT, 5 s, is 100 s of 300).
GROUP = 20


def _renew_many(*, messages: list[OutboxMessage], token: str) -> dict[int, DeliveryAttempt]:
    """Renew our claim on the messages and write their attempts just before sending, in one transaction;
    returns the attempt of each message still ours, by message id (another worker took the others).

    The attempt is written before the send (ok=False, `INTERRUPTED`) and completed after it, so a send
    cut off by a dying worker still has its row in the delivery-attempt table."""
    now = clock.now()
    with transaction.atomic():
        _no_flush_wait()
        ours = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=[m.pk for m in messages], claimed_by=token, state=State.SENDING)
            .values_list("pk", flat=True)
        )
        if not ours:
            return {}
        OutboxMessage.objects.filter(pk__in=ours).update(claimed_at=now)
        mine = set(ours)
        rows = [
            DeliveryAttempt(message=m, number=m.attempts, at=now, ok=False, error=INTERRUPTED, worker=token[:100])
            for m in messages
            if m.pk in mine
        ]
        # PostgreSQL and SQLite (3.35+) return the ids of a bulk insert.
        made = DeliveryAttempt.objects.bulk_create(rows)
    return {a.message_id: a for a in made}


def outbox_deliver_due(*, limit: int = 200, worker_id: str = "") -> DeliveryReport:
    """Deliver due messages once each; retry failures with backoff; dead after NOTIFY_MAX_ATTEMPTS; never raise.

    Deliberately not one transaction: a network call must never hold row locks (or, on SQLite,
    the single write lock that every user's action needs). Each claim, each group's renewal and each
    group's record is its own short transaction (`GROUP`); a worker stopped in the middle of a group
    records what it sent before it stops, and a worker killed there leaves those messages `sending`
    until the claim timeout, when they are sent again (at least once).
    """
    token, claimed = _claim(limit=limit, worker_id=worker_id or core_worker.worker_id())
    counts = {"sent": 0, "failed": 0, "dead": 0, "skipped": 0}
    for i in range(0, len(claimed), GROUP):
        group = claimed[i : i + GROUP]
        attempts = _renew_many(messages=group, token=token)
        sent: list[Sent] = []
        try:
            for message in group:
                attempt = attempts.get(message.pk)
                if attempt is None:
                    counts["skipped"] += 1
                    continue
                result, duration_ms = _send(message)
                sent.append((message, attempt, result, duration_ms))
                if not result.ok:
                    logger.warning(
                        "notification #%s via %s failed (try %s): %s",
                        message.pk,
                        message.channel,
                        message.attempts,
                        result.error,
                    )
        finally:
            for state in _record_many(sent=sent, token=token):
                counts[state if state in counts else "skipped"] += 1
    return DeliveryReport(claimed=len(claimed), **counts)


def outbox_pass() -> dict[str, int]:
    """The worker's pass (a WANGGE_WORKER_HOOKS entry): rounds of up to NOTIFY_OUTBOX_BATCH due messages,
    another while a round came back full and NOTIFY_OUTBOX_PASS_SECONDS are not spent (one at least).

    One round a pass delivered at most 200 messages every 30 s or so, fewer than 4 intakes a second
    enqueue (two messages each): the outbox fell behind for as long as the intake lasted.
    """
    batch = int(_setting("NOTIFY_OUTBOX_BATCH", 200))
    budget = float(_setting("NOTIFY_OUTBOX_PASS_SECONDS", 1.0))
    started = time.perf_counter()
    total: dict[str, int] = {}
    while True:
        report = asdict(outbox_deliver_due(limit=batch))
        for key, value in report.items():
            total[key] = total.get(key, 0) + value
        if report["claimed"] < batch or time.perf_counter() - started >= budget:
            return total


@transaction.atomic
def outbox_retry(*, message: OutboxMessage) -> OutboxMessage:
    """An administrator requeues a dead or failed message: due now, with a fresh set of tries."""
    now = clock.now()
    moved = OutboxMessage.objects.filter(pk=message.pk, state__in=(State.DEAD, State.FAILED)).update(
        state=State.PENDING, attempts=0, next_attempt_at=now, claimed_by="", claimed_at=None
    )
    if not moved:
        raise Conflict(_("only a failed or dead message can be retried"), field="state")
    message.refresh_from_db()
    return message


def outbox_purge_sent(*, older_than_days: int = 90) -> int:
    """Delete sent messages (and their attempts) older than the retention period; returns how many.

    One short transaction per batch rather than one for all: a first purge of a large table must
    not hold the write lock that users' actions need.
    """
    if older_than_days < 1:
        raise ValidationFailed(_("older_than_days must be at least 1"), field="older_than_days")
    cutoff = clock.now() - dt.timedelta(days=older_than_days)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                OutboxMessage.objects.filter(state=State.SENT, sent_at__lt=cutoff).values_list("id", flat=True)[:2000]
            )
            if not ids:
                return total
            DeliveryAttempt.objects.filter(message_id__in=ids).delete()
            OutboxMessage.objects.filter(id__in=ids, state=State.SENT).delete()
        total += len(ids)
