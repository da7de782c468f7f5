"""Sweep benchmark: one worker pass over 1,000,000 open demands, calibrated against raw SQL.

Builds a bench database (SQLite file var/bench/sweep.sqlite3 by default, or DATABASE_URL) with
N open demands inserted by raw bulk inserts (executemany in large transactions), then times:
- an idle pass: `sweep_once` when nothing is due (budget: under a tenth of WORKER_INTERVAL_SECONDS),
  against the same four "what is due" queries in raw SQL (the floor any sweep pays);
- a busy pass: 10,000 demands put past their limit to accept, one pass escalates them all; the
  rate (demands/s) is reported next to the raw UPDATE rate of the same rows.
The query plans are recorded to show the partial indexes over open demands are used.

Usage:
    .venv/bin/python bench/bench_sweep.py [--rows 1000000] [--due 10000]
Results: bench/results/sweep-<vendor>.json and a line in bench/results/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale


def _setup() -> None:
    if "DATABASE_URL" not in os.environ:
        bench_dir = ROOT / "var" / "bench"
        bench_dir.mkdir(parents=True, exist_ok=True)
        db = bench_dir / "sweep.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _fill(rows: int) -> dict[str, object]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from wangge.core import clock
    from wangge.demands.models import Demand
    from wangge.registry.models import Area
    from wangge.registry.testing import make_tree

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        Demand.objects.all().delete()
    grid = Area.objects.filter(code="43999810020101001").first() or make_tree("439998").grid
    now = clock.now()
    rnd = random.Random(7)
    table = Demand._meta.db_table
    sql = (
        f"INSERT INTO {table} (code, tracking_token, short_code, kind, channel, urgency, title, description,"
        " address, reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path, holder_level,"
        " state, version, warning, escalations, highest_level, resolution, rating_reason,"
        " created_at, updated_at, accept_due_at, resolve_due_at, yellow_at)"
        " VALUES (%s, %s, %s, 'help', 'resident_web', 'normal', '路灯不亮', '小区门口路灯坏了', '', '', '', %s, %s, %s,"
        " %s, 'grid', %s, 1, 'none', 0, 'grid', '', '', %s, %s, %s, %s, %s)"
    )
    states = ["submitted"] * 30 + ["in_progress"] * 60 + ["escalated"] * 5 + ["reopened"] * 5
    started = time.perf_counter()
    chunk = 50_000
    for base in range(0, rows, chunk):
        batch = []
        for i in range(base, min(base + chunk, rows)):
            created = now - dt.timedelta(minutes=rnd.randint(0, 60 * 24 * 3))
            resolve_due = now + dt.timedelta(hours=rnd.randint(24, 24 * 20))
            batch.append(
                (
                    f"BS-{i:08d}",
                    f"bench-token-{i:08d}",
                    f"s{i:08d}",
                    grid.pk,
                    grid.path,
                    grid.pk,
                    grid.path,
                    states[i % 100],
                    created,
                    created,
                    now + dt.timedelta(hours=rnd.randint(1, 24 * 5)),
                    resolve_due,
                    resolve_due - dt.timedelta(hours=8),
                )
            )
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, batch)
    fill_s = time.perf_counter() - started
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {table}")
    return {"fill_seconds": round(fill_s, 1), "fill_rows_per_s": round(rows / fill_s), "grid": grid}


def _raw_due_queries(now: dt.datetime) -> float:
    """The floor: the four 'what is due' reads of a pass, in raw SQL on the same indexes."""
    from django.db import connection

    from wangge.demands.models import Demand

    t = Demand._meta.db_table
    open_list = "('submitted', 'in_progress', 'escalated', 'reopened')"
    queries = [
        f"SELECT id FROM {t} WHERE state IN {open_list} AND state IN ('submitted', 'escalated', 'reopened')"
        " AND accept_due_at <= %s ORDER BY accept_due_at, id LIMIT 500",
        f"SELECT id FROM {t} WHERE state IN {open_list} AND resolve_due_at <= %s AND warning <> 'red'"
        " ORDER BY resolve_due_at, id LIMIT 500",
        f"SELECT id FROM {t} WHERE state IN {open_list} AND warning = 'none' AND yellow_at <= %s"
        " ORDER BY yellow_at, id LIMIT 500",
        f"SELECT id FROM {t} WHERE state = 'resolved' AND resolved_at <= %s ORDER BY resolved_at, id LIMIT 500",
    ]
    started = time.perf_counter()
    with connection.cursor() as cur:
        for q in queries:
            cur.execute(q, [now])
            cur.fetchall()
    return time.perf_counter() - started


def _plans(now: dt.datetime) -> dict[str, str]:
    from django.db import connection

    from wangge.demands import sweep

    plans = {}
    for name, qs in (
        ("escalate", sweep.due_to_escalate(now)),
        ("red", sweep.due_for_red(now)),
        ("yellow", sweep.due_for_yellow(now)),
        ("close", sweep.due_to_close(now)),
    ):
        sql, params = qs.values_list("pk", flat=True)[:500].query.sql_with_params()
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        with connection.cursor() as cur:
            cur.execute(prefix + sql, params)
            plans[name] = " | ".join(str(r[-1]) for r in cur.fetchall())
    return plans


def bench(rows: int, due: int) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection, transaction

    from wangge.core import clock
    from wangge.demands.models import Demand
    from wangge.demands.sweep import sweep_once

    settings.NOTIFY_BACKENDS = {k: "wangge.notifications.backends.LocalBackend" for k in settings.NOTIFY_BACKENDS}
    fill = _fill(rows)
    now = clock.now()
    # Idle: nothing is due. Take the best of three (the first warms the cache).
    idle = []
    for _ in range(3):
        report = sweep_once()
        assert report.escalated == report.red == report.yellow == report.closed == 0, report
        idle.append(report.seconds)
    raw_idle = min(_raw_due_queries(now) for _ in range(3))
    plans = _plans(now)

    # Busy: `due` waiting demands pass their limit to accept.
    ids = list(Demand.objects.filter(state="submitted").order_by("id").values_list("pk", flat=True)[:due])
    with transaction.atomic():
        for start in range(0, len(ids), 5000):
            Demand.objects.filter(pk__in=ids[start : start + 5000]).update(accept_due_at=now - dt.timedelta(hours=1))
    report = sweep_once()
    assert report.escalated == len(ids), report
    busy_s = report.seconds

    # Raw calibration of the busy pass: the same rows moved by one UPDATE each, one transaction each.
    t = Demand._meta.db_table
    started = time.perf_counter()
    for pk in ids[:2000]:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {t} SET version = version + 1 WHERE id = %s AND version = %s", [pk, 2])
    raw_update_rate = 2000 / (time.perf_counter() - started)

    interval = settings.WORKER_INTERVAL_SECONDS
    idle_best = min(idle)
    return {
        "vendor": connection.vendor,
        "rows": rows,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "fill_seconds": fill["fill_seconds"],
        "fill_rows_per_s": fill["fill_rows_per_s"],
        "idle_pass_seconds": [round(s, 4) for s in idle],
        "idle_pass_best_seconds": round(idle_best, 4),
        "raw_due_queries_seconds": round(raw_idle, 4),
        "idle_ratio_to_raw": round(idle_best / raw_idle, 2) if raw_idle else None,
        "budget_seconds": interval / 10,
        "met": idle_best < interval / 10,
        "due": len(ids),
        "busy_pass_seconds": round(busy_s, 2),
        "escalations_per_s": round(len(ids) / busy_s, 1),
        "raw_update_per_s": round(raw_update_rate, 1),
        "busy_ratio_to_raw": round((len(ids) / busy_s) / raw_update_rate, 3),
        "plans": plans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    args = parser.parse_args()
    _setup()
    res = bench(args.rows, args.due)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sweep-{res['vendor']}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    line = (
        f"- {res['at']} sweep ({res['vendor']}, {res['rows']:,} open demands, {res['cpus']} cpus, "
        f"load {res['load_average_1m']}): "
        f"idle pass {res['idle_pass_best_seconds'] * 1000:.1f} ms vs raw due-queries "
        f"{res['raw_due_queries_seconds'] * 1000:.1f} ms (budget < {res['budget_seconds']} s: "
        f"{'met' if res['met'] else 'MISSED'}); {res['due']:,} due escalated in {res['busy_pass_seconds']} s "
        f"({res['escalations_per_s']}/s, raw UPDATE {res['raw_update_per_s']}/s, ratio {res['busy_ratio_to_raw']})"
    )
    with (RESULTS / "README.md").open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    print(line)
    print(json.dumps(res["plans"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
