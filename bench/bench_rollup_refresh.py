"""The worker's incremental rollup pass after N demands changed, on a database whose rollups are built.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale \\
        .venv/bin/python bench/bench_rollup_refresh.py [--changes 1000] [--label after]

On a database bench/scale_generate.py filled and `manage.py rollup_rebuild` built, in one run:
1. one `rollup_refresh_recent()` to catch up (what changed since the build);
2. N demands spread over the table (a fixed seed) each get one more urge (督办) and an event saying so,
   the way a service changes a demand, so every one of them changes its facts and its rollup rows;
3. `rollup_refresh_recent()` timed (wall and this process's CPU seconds): the worker's hook;
4. the raw SQL that reads those N demands and their events (one SELECT … GROUP BY), in the same run.

Run it with the code to compare on PYTHONPATH (the hook has the same name before and after). Writes
bench/results/rollup-refresh-<label>.json (with the load average) and one line in bench/results/README.md.
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
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    import wangge
    from wangge.dashboards import services
    from wangge.demands.models import Demand, DemandEvent

    load_before = os.getloadavg()
    started = time.perf_counter()
    catch_up = services.rollup_refresh_recent()
    catch_up_s = time.perf_counter() - started
    print(f"catch-up pass: {catch_up}", flush=True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id), count(*) FROM demands_demand")
        low, high, total = cursor.fetchone()
    rnd = random.Random(args.seed)
    ids = sorted(rnd.sample(range(low, high + 1), min(args.changes, total)))
    ids = list(Demand.objects.filter(pk__in=ids).values_list("pk", flat=True))
    now = timezone.now()
    with transaction.atomic():
        Demand.objects.filter(pk__in=ids).update(urges=django.db.models.F("urges") + 1, updated_at=now)
        DemandEvent.objects.bulk_create(
            DemandEvent(demand_id=pk, at=now, action="urge", actor_kind="staff", note="bench") for pk in ids
        )

    cpu0, wall0 = time.process_time(), time.perf_counter()
    report = services.rollup_refresh_recent()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(f"refresh after {len(ids)} changes: {report} ({wall:.2f} s wall, {cpu:.2f} s CPU here)", flush=True)

    listed = ", ".join(str(i) for i in ids)
    raw = []
    for _ in range(3):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.id, d.state, d.urges, d.created_at, d.accepted_at, d.resolved_at, count(e.id) "
                f"FROM demands_demand d LEFT JOIN demands_demandevent e ON e.demand_id = d.id WHERE d.id IN ({listed}) "
                "GROUP BY d.id"
            )
            cursor.fetchall()
        raw.append(time.perf_counter() - t0)
    raw_s = min(raw)
    load_after = os.getloadavg()
    result = {
        "label": args.label,
        "code": str(Path(wangge.__file__).resolve().parent.parent),
        "vendor": connection.vendor,
        "demands_in_database": total,
        "changed_demands": len(ids),
        "catch_up_seconds": round(catch_up_s, 2),
        "refresh_seconds": round(wall, 2),
        "refresh_cpu_seconds_here": round(cpu, 2),
        "refresh_demands": report.demands,
        "refresh_days": report.days,
        "refresh_rows": report.rows,
        "raw_read_seconds": round(raw_s, 3),
        "ratio_to_raw_read": round(wall / raw_s, 1) if raw_s else None,
        "load_average": [round(load_before[0], 1), round(load_after[0], 1)],
        "cpus": os.cpu_count(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"rollup-refresh-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    line = (
        f"- {result['measured_at']} rollup refresh ({connection.vendor}, {total:,} demands, {args.label}, "
        f"{result['cpus']} cpus, load {result['load_average'][0]} → {result['load_average'][1]}): "
        f"{len(ids):,} changed demands refreshed in {wall:.2f} s ({cpu:.2f} s CPU in the worker process; "
        f"{report.days} days, {report.rows:,} rollup rows); raw read of those demands {raw_s * 1000:.0f} ms"
    )
    with (RESULTS / "README.md").open("a") as handle:
        handle.write(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
