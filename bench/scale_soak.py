"""Soak: a steady intake (4 demands a second by default) for 10 minutes with the worker running, on the scale database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale \\
        .venv/bin/python bench/scale_soak.py [--minutes 10] [--rate 4] [--reads 0] [--name 1m-pass] [--note …]

Starts gunicorn (as bench/scale_report.py does: `make serve`'s two workers, production settings minus
HTTPS) and `manage.py run_worker` (its loop, at settings.WORKER_INTERVAL_SECONDS), then sends
POST /api/v1/demands at a fixed rate from a pool of threads (a slow answer does not slow the schedule),
and, with --reads R, R page reads a second (the town queue and the city dashboard, in turn) as staff
would. It reports errors (any status but 200/201, or a timeout), p50/p95/max of the intakes and reads,
the worker's passes (each hook's milliseconds from its log lines: the pass must stay within its interval;
each hook's p50/p95/max over the passes) and the load average, in bench/results/scale-soak-<N>.json
(<N> the size, 1m or 5m, or --name) and a line of bench/results/README.md.
The demands it files stay in the database (a few thousand).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_report import RESULTS, ROOT, SERVER_ENV, Server, _setup, percentile, sessions, summary

WORKER_LINE = re.compile(
    r"worker \S+ hook (?P<path>[\w.]+)(?:: .*\((?P<ms>[\d.]+) ms\)| FAILED after (?P<failed>[\d.]+))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=4, help="intakes a second")
    parser.add_argument("--reads", type=float, default=0, help="staff page reads a second as well (default none)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--name", default="", help="result file: scale-soak-NAME.json (default: the size)")
    parser.add_argument("--note", default="", help="a note kept in the result (what was measured, on what)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "scale" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("DATABASE_URL must be the PostgreSQL database bench/scale_generate.py filled (…/wangge_scale)")
    _setup(url)
    from django.conf import settings

    from wangge.accounts.models import User
    from wangge.accounts.services import api_token_create
    from wangge.demands.models import Demand
    from wangge.registry.models import Area

    load_before = os.getloadavg()
    demands = Demand.objects.count()
    user = User.objects.get(username="demo_town")
    _token, raw_token = api_token_create(user=user, name="scale-soak")
    town = user.scopes.select_related("area").first().area  # type: ignore[union-attr]
    grids = list(Area.objects.filter(path__startswith=town.path, level="grid").values_list("code", flat=True)[:200])
    cookies = sessions()

    server = Server(url, args.workers)
    worker_log = (ROOT / "var" / "scale-soak-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker"],
        cwd=ROOT, env={**os.environ, **SERVER_ENV, "DATABASE_URL": url, "LOG_LEVEL": "INFO"},
        stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    stamp = int(time.time())
    intakes: list[tuple[int, float]] = []
    reads: list[tuple[str, int, float]] = []
    lock = threading.Lock()

    def intake(i: int) -> None:
        body = json.dumps(
            {
                "title": "小区路灯不亮",
                "description": f"晚上出行不便，请尽快修复（soak {i}）",
                "grid": grids[i % len(grids)],
                "reporter_phone": f"137{(stamp + i) % 10**8:08d}",
                "category": "0102",
            },
            ensure_ascii=False,
        ).encode()
        try:
            status, _b, seconds = server.request(
                "POST", "/api/v1/demands", body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {raw_token}",
                         "Idempotency-Key": f"soak-{stamp}-{i}"},
            )  # fmt: skip
        except OSError:
            status, seconds = 0, 0.0
        with lock:
            intakes.append((status, seconds))

    pages = [
        ("town_queue", "demo_town", "/dashboards/console/?view=queue"),
        ("city_dashboard", "demo_city", "/dashboards/"),
    ]

    def read(i: int) -> None:
        name, who, path = pages[i % len(pages)]
        try:
            status, _b, seconds = server.get(path, cookies[who])
        except OSError:
            status, seconds = 0, 0.0
        with lock:
            reads.append((name, status, seconds))

    print(
        f"soak: {args.rate}/s intakes, {args.reads}/s reads for {args.minutes} min on {demands:,} demands",
        flush=True,
    )
    started = time.perf_counter()
    end = started + args.minutes * 60
    pool = concurrent.futures.ThreadPoolExecutor(64)
    i = j = 0
    next_intake = next_read = started
    next_report = started + 60
    try:
        while time.perf_counter() < end:
            now = time.perf_counter()
            if now >= next_intake:
                pool.submit(intake, i)
                i += 1
                next_intake += 1 / args.rate
            if args.reads and now >= next_read:
                pool.submit(read, j)
                j += 1
                next_read += 1 / args.reads
            time.sleep(max(0.0, min(next_intake, next_read if args.reads else next_intake) - time.perf_counter()))
            if now >= next_report:
                next_report += 60
                with lock:
                    bad = sum(1 for s, _ in intakes if s not in (200, 201))
                print(f"  {(now - started) / 60:.0f} min: {len(intakes)} intakes answered, {bad} errors", flush=True)
        pool.shutdown(wait=True)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=600)  # the current pass finishes first
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()
        server.stop()
    wall = time.perf_counter() - started

    # The worker's passes from its log: a pass is the hooks from one run of the first hook to the next.
    first_hook = settings.WANGGE_WORKER_HOOKS[0]
    passes: list[dict[str, float]] = []
    for line in (ROOT / "var" / "scale-soak-worker.log").read_text().splitlines():
        m = WORKER_LINE.search(line)
        if not m:
            continue
        if m["path"] == first_hook or not passes:
            passes.append({})
        passes[-1][m["path"]] = float(m["ms"] or m["failed"])
    pass_seconds = [sum(p.values()) / 1000 for p in passes if len(p) == len(settings.WANGGE_WORKER_HOOKS)]

    def by_hook(some: list[dict[str, float]]) -> dict[str, dict[str, float]]:
        """Each hook's p50/p95/max over `some` passes, slowest p95 first: the pass read hook by hook."""
        seconds: dict[str, list[float]] = {}
        for p in some:
            for hook, ms in p.items():
                seconds.setdefault(hook, []).append(ms / 1000)
        return {
            hook: summary(samples) for hook, samples in sorted(seconds.items(), key=lambda kv: -percentile(kv[1], 0.95))
        }

    hooks = by_hook(passes)
    # The first pass catches up with whatever the database held (reminders, escalations, the margin of
    # ids below the last refresh): the passes after it are the steady state.
    hooks_after_first = by_hook(passes[1:])

    ok_intake = [s for st, s in intakes if st in (200, 201)]
    errors = [st for st, _s in intakes if st not in (200, 201)]
    read_errors = [st for _n, st, _s in reads if st != 200]
    result: dict[str, Any] = {
        "bench": "scale_soak",
        "demands_before": demands,
        "minutes": round(wall / 60, 1),
        "rate_target_per_s": args.rate,
        "intakes": len(intakes),
        "intake_errors": len(errors),
        "intake_error_statuses": sorted(set(errors)),
        "intake_latency": summary(ok_intake) if ok_intake else None,
        "reads_per_s": args.reads,
        "reads": len(reads),
        "read_errors": len(read_errors),
        "read_latency": {
            name: summary([s for n, st, s in reads if n == name and st == 200])
            for name, _w, _p in pages
            if any(n == name and st == 200 for n, st, _s in reads)
        },
        "worker_interval_seconds": settings.WORKER_INTERVAL_SECONDS,
        "worker_passes": len(pass_seconds),
        "worker_pass": summary(pass_seconds) if pass_seconds else None,
        "worker_pass_after_first": summary(pass_seconds[1:]) if len(pass_seconds) > 1 else None,
        "worker_hooks": hooks,
        "worker_hooks_after_first": hooks_after_first,
        "note": args.note,
        "goal": "zero errors and intake p95 ≤ 300 ms; worker pass ≤ its interval",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "shared": "2 cores shared with other sessions",
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    label = args.name or (f"{round(demands / 1_000_000)}m" if demands >= 1_000_000 else f"{demands // 1000}k")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scale-soak-{label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    lat = result["intake_latency"] or {}
    line = (
        f"- {result['measured_at']} scale soak (postgresql, {demands:,} demands, {result['minutes']} min, "
        f"{args.rate}/s intakes + {args.reads}/s reads, load {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}): "
        f"{len(intakes)} intakes, {len(errors)} errors, p95 {lat.get('p95_ms')} ms; {len(read_errors)} read errors; "
        f"{len(pass_seconds)} worker passes, p95 {(result['worker_pass'] or {}).get('p95_ms')} ms "
        f"(interval {settings.WORKER_INTERVAL_SECONDS} s)\n"
    )
    with (RESULTS / "README.md").open("a", encoding="utf-8") as fh:
        fh.write(line)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(line, end="")


if __name__ == "__main__":
    main()
