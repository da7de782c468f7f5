"""A whole worker pass with a steady intake on the scale database: every hook's time, pass by pass.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_hot_scale \\
        .venv/bin/python bench/bench_hot_pass.py --label after [--passes 6] [--interval 30] [--rate 4]

In this process, a thread files demands through `demand_submit` (the service the API and the pages
call) at --rate a second, with texts drawn from the triage sample messages (--texts, else a short
built-in list) in grids drawn from the whole city, while the main thread runs worker passes
(`core.worker.run_pass`: every hook of WANGGE_WORKER_HOOKS, each timed) --interval seconds apart,
as `run_worker` does. Before the passes, with --catch-up, the hot clusters are built for the
longest hot window (`hotclusters.hot_clusters_pass` until nothing is left; the code after issue
13 item 3 only), timed. Raw SQL measured in the same run for calibration: a COUNT of the demands
of the last 90 days, and (when the clusters exist) the city's 90-day GROUP BY by cluster.

Writes bench/results/hot-pass-<label>.json: each pass's hooks (ms, result), the intake's p50/p95,
the load average before and after, the raw SQL times. Run it with the code to measure on the path
(PYTHONPATH=/path/to/tree for the code before the change).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
TEXTS = Path("/work/shared/data/messages-labelled-train.csv")
BUILT_IN = [
    ("小区门口路灯不亮", "晚上出行很不方便"),
    ("垃圾清运不及时", "垃圾桶满了没人清理"),
    ("噪音扰民", "工地夜间施工"),
]


def texts(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return BUILT_IN
    with path.open(encoding="utf-8") as f:
        rows = [(r.get("title") or "", r.get("body") or r.get("description") or "") for r in csv.DictReader(f)]
    return [(t[:100], b[:500]) for t, b in rows if t] or BUILT_IN


def raw_ms(sql: str, repeat: int = 3) -> float:
    from django.db import connection

    best = float("inf")
    with connection.cursor() as cur:
        for _ in range(repeat):
            started = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True)
    parser.add_argument("--passes", type=int, default=6)
    parser.add_argument("--interval", type=float, default=30)
    parser.add_argument("--rate", type=float, default=4, help="intakes a second")
    parser.add_argument("--texts", type=Path, default=TEXTS)
    parser.add_argument("--catch-up", action="store_true", help="build the hot clusters of the window first")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "scale" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("DATABASE_URL must be a PostgreSQL scale database (bench/scale_generate.py)")
    if not os.environ.get("PYTHONPATH"):  # else the tree on PYTHONPATH is the code measured
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import close_old_connections, connection

    import wangge
    from wangge.core.worker import run_pass
    from wangge.demands.models import Demand
    from wangge.demands.services import demand_submit
    from wangge.registry.models import Area

    result: dict[str, Any] = {
        "label": args.label,
        "code": str(Path(wangge.__file__).parent.parent),
        "demands": Demand.objects.count(),
        "rate": args.rate,
        "interval_seconds": args.interval,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    window_sql = "SELECT count(*) FROM demands_demand WHERE created_at >= now() - interval '90 days'"
    result["raw_ms"] = {"count_90_days": raw_ms(window_sql)}
    if args.catch_up:
        from wangge.triage.hotclusters import hot_clusters_pass

        started, cpu, total = time.perf_counter(), time.process_time(), 0
        while n := hot_clusters_pass():
            total += n
            print(f"  catch-up: {total:,} demands put in clusters, {time.perf_counter() - started:.0f} s", flush=True)
        result["catch_up"] = {
            "demands": total,
            "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1),
        }
    if "triage_hotmember" in connection.introspection.table_names():
        result["raw_ms"]["group_by_cluster_90_days"] = raw_ms(
            "SELECT m.cluster_id, count(*) FROM triage_hotmember m JOIN demands_demand d ON d.id = m.demand_id "
            "WHERE d.created_at >= now() - interval '90 days' AND d.state <> 'merged' "
            "GROUP BY m.cluster_id HAVING count(*) >= 2"
        )
    grids = list(Area.objects.filter(level="grid").order_by("?")[:500])
    pool = texts(args.texts)
    stop = threading.Event()
    intakes: list[float] = []
    errors: list[str] = []

    def intake() -> None:
        rnd = random.Random(13)
        next_at = time.perf_counter()
        i = 0
        while not stop.is_set():
            title, body = rnd.choice(pool)
            started = time.perf_counter()
            try:
                demand_submit(
                    channel="resident_web", title=title, description=body or title, grid=rnd.choice(grids),
                    reporter_name="测试", reporter_phone=f"137{rnd.randrange(10**8):08d}",
                )  # fmt: skip
                intakes.append(time.perf_counter() - started)
            except Exception as exc:  # counted and shown, the intake goes on
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            i += 1
            next_at += 1 / args.rate
            stop.wait(max(0.0, next_at - time.perf_counter()))
        close_old_connections()

    thread = threading.Thread(target=intake, daemon=True)
    thread.start()
    passes = []
    try:
        for k in range(args.passes):
            started, cpu = time.perf_counter(), time.process_time()
            runs = run_pass()
            wall = time.perf_counter() - started
            hooks = {r.path.rsplit(".", 1)[-1]: {"ms": round(r.seconds * 1000, 1), "result": str(r.result)[:160]}
                     for r in runs}  # fmt: skip
            passes.append(
                {
                    "wall_seconds": round(wall, 2),
                    "cpu_seconds": round(time.process_time() - cpu, 2),
                    "load": round(os.getloadavg()[0], 2),
                    "hooks": hooks,
                }
            )
            print(
                f"pass {k + 1}: {wall:.2f} s: " + ", ".join(f"{h} {v['ms']:.0f}" for h, v in hooks.items()),
                flush=True,
            )
            if k + 1 < args.passes:
                time.sleep(max(0.0, args.interval - wall))
    finally:
        stop.set()
        thread.join(timeout=30)
    steady = passes[1:] or passes
    result.update(
        {
            "passes": passes,
            "steady_pass_seconds": {
                "median": round(statistics.median(p["wall_seconds"] for p in steady), 2),
                "max": max(p["wall_seconds"] for p in steady),
            },
            "hot_issues_pass_ms": {
                "median": round(statistics.median(p["hooks"]["hot_issues_pass"]["ms"] for p in steady), 1),
                "max": max(p["hooks"]["hot_issues_pass"]["ms"] for p in steady),
            },
            "intake": {
                "n": len(intakes),
                "errors": len(errors),
                "first_errors": errors[:3],
                "p50_ms": round(statistics.median(intakes) * 1000, 1) if intakes else None,
                "p95_ms": round(sorted(intakes)[int(0.95 * (len(intakes) - 1))] * 1000, 1) if intakes else None,
            },
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"hot-pass-{args.label}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("steady_pass_seconds", "hot_issues_pass_ms", "intake", "raw_ms")}))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
