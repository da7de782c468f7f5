"""Outbox benchmark: what enqueue adds to a user's transaction, and how fast the worker drains the outbox.

Each figure is a ratio to a raw limit measured in the same run on the same database:
- enqueue: `outbox_enqueue` (with a dedupe key) in its own transaction, against a raw
  parameterised INSERT of the same row in its own transaction;
- delivery: `outbox_deliver_due` through the LocalBackend (no network), against a raw
  UPDATE of the same number of rows one by one (the least a delivery must write).

Usage (SQLite in a temporary file by default; DATABASE_URL=postgres://…/wangge_bench for PostgreSQL,
whose outbox tables are emptied first and last):

    .venv/bin/python bench/bench_outbox.py [--messages 2000]

Results go to bench/results/outbox-<vendor>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    if "DATABASE_URL" not in os.environ:
        scratch = Path(tempfile.mkdtemp(prefix="wangge-bench-outbox-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _ensure_tables() -> None:
    """Only the outbox's own tables: the benchmark does not depend on other apps' migrations."""
    from django.db import connection

    from wangge.notifications.models import DeliveryAttempt, OutboxMessage

    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (OutboxMessage, DeliveryAttempt):
            if model._meta.db_table not in existing:
                editor.create_model(model)
    _empty()


def _empty() -> None:
    from wangge.notifications.models import DeliveryAttempt, OutboxMessage

    DeliveryAttempt.objects.all().delete()
    OutboxMessage.objects.all().delete()


def bench(n: int) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection, transaction

    from wangge.core import clock
    from wangge.notifications.models import OutboxMessage
    from wangge.notifications.services import outbox_deliver_due, outbox_enqueue

    settings.NOTIFY_BACKENDS = {k: "wangge.notifications.backends.LocalBackend" for k in settings.NOTIFY_BACKENDS}
    table = OutboxMessage._meta.db_table
    now = clock.now()

    # Raw limit: one INSERT per transaction, as a demand move writes one row per message.
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (channel, recipient, subject, body, payload, kind, area_path, dedupe_key,"
                " state, attempts, next_attempt_at, last_error, claimed_by, claimed_at, sent_at, created_at)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    "sms", "13800001111", "诉求已受理", "您反映的问题已受理。", "{}", "demand.accepted",
                    "430181/", f"raw:{i}", "pending", 0, now, "", "", None, None, now,
                ],
            )  # fmt: skip
    raw_insert = n / (time.perf_counter() - started)
    _empty()

    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            outbox_enqueue(
                channel="sms",
                recipient="13800001111",
                subject="诉求已受理",
                body="您反映的问题已受理。",
                payload={"demand_id": i},
                kind="demand.accepted",
                area_path="430181/",
                dedupe_key=f"demand:{i}:accepted",
            )
    enqueue = n / (time.perf_counter() - started)

    ids = list(OutboxMessage.objects.values_list("id", flat=True))
    started = time.perf_counter()
    for pk in ids:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET state = %s, sent_at = %s WHERE id = %s", ["sent", now, pk])
    raw_update = n / (time.perf_counter() - started)
    OutboxMessage.objects.update(state="pending", sent_at=None)

    started = time.perf_counter()
    sent = 0
    while True:
        report = outbox_deliver_due(limit=200, worker_id="bench")
        sent += report.sent
        if report.claimed == 0:
            break
    deliver = sent / (time.perf_counter() - started)
    assert sent == n, (sent, n)
    _empty()
    return {
        "vendor": connection.vendor,
        "messages": n,
        "raw_insert_per_s": round(raw_insert),
        "enqueue_per_s": round(enqueue),
        "enqueue_ratio": round(enqueue / raw_insert, 3),
        "raw_update_per_s": round(raw_update),
        "deliver_per_s": round(deliver),
        "deliver_ratio": round(deliver / raw_update, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    _setup()
    _ensure_tables()
    result = bench(args.messages)
    out = RESULTS / f"outbox-{result['vendor']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
