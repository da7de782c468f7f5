"""Time `manage.py partition_history --convert` against a raw INSERT … SELECT copy of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale_part \\
        .venv/bin/python bench/scale_generate.py --demands 200000 --skip-rollups
    DATABASE_URL=… .venv/bin/python bench/partition_convert.py

On a database loaded by bench/scale_generate.py (partitioned, since migration demands 0016):
1. puts the two tables back as an install before 0016 has them (the models' own plain tables, with
   every index, through Django's schema editor) and copies the rows in (setup, not timed);
2. raw: `INSERT INTO <plain table without indexes> SELECT * FROM <table>` for both tables, the bare
   copy of the same rows (the floor any conversion pays);
3. `manage.py partition_history --convert` (copy month by month, every index and foreign key again,
   the names swapped), timed in the process and read from its own log;
4. 300 lookups by id and by tracking token on the partitioned table and on the kept
   `…_unpartitioned` one, same run (a lookup that cannot name the month probes every partition);
5. writes bench/results/partition-convert-<N>.json with the load average.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
TABLES = ("demands_demand", "demands_demandevent")


def django_cursor() -> Any:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    return connection


def unpartition(connection: Any) -> dict[str, int]:
    """The partitioned tables replaced by the models' plain tables holding the same rows."""
    from wangge.demands.models import Demand, DemandEvent

    counts: dict[str, int] = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"DROP TABLE IF EXISTS {table}_unpartitioned, bench_src_{table}, bench_raw_{table}")
            cur.execute(f"CREATE TABLE bench_src_{table} AS SELECT * FROM {table}")
        cur.execute("DROP TABLE demands_demandevent, demands_demand")
    with connection.schema_editor() as editor:
        editor.create_model(Demand)
        editor.create_model(DemandEvent)
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            columns = cur.fetchone()[0]
            cur.execute("SET session_replication_role = replica")
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM bench_src_{table}")
            counts[table] = cur.rowcount
            cur.execute("SET session_replication_role = origin")
            cur.execute(f"DROP TABLE bench_src_{table}")
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            cur.execute(f"VACUUM ANALYZE {table}")
    return counts


def raw_copy(connection: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"CREATE TABLE bench_raw_{table} (LIKE {table} INCLUDING DEFAULTS)")
            started = time.perf_counter()
            cur.execute(f"INSERT INTO bench_raw_{table} SELECT * FROM {table}")
            out[table] = time.perf_counter() - started
            cur.execute(f"DROP TABLE bench_raw_{table}")
    return out


def lookups(connection: Any, table: str, ids: list[int], tokens: list[str]) -> dict[str, float]:
    """Median milliseconds of one lookup by id and by tracking token."""
    times: dict[str, list[float]] = {"id": [], "token": []}
    with connection.cursor() as cur:
        for pk, token in zip(ids, tokens, strict=True):
            for kind, sql, arg in (
                ("id", f"SELECT id, code FROM {table} WHERE id = %s", pk),
                ("token", f"SELECT id, code FROM {table} WHERE tracking_token = %s", token),
            ):
                started = time.perf_counter()
                cur.execute(sql, [arg])
                assert cur.fetchone() is not None
                times[kind].append((time.perf_counter() - started) * 1000)
    return {k: round(sorted(v)[len(v) // 2], 3) for k, v in times.items()}


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "scale" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("set DATABASE_URL to the PostgreSQL database scale_generate.py loaded (its name has 'scale')")
    load_before = os.getloadavg()
    connection = django_cursor()
    from wangge.demands.partitioning.months import is_partitioned

    with connection.cursor() as cur:
        if not is_partitioned(cur, "demands_demand"):
            raise SystemExit("demands_demand is not partitioned: load it with bench/scale_generate.py first")
    started = time.perf_counter()
    counts = unpartition(connection)
    setup_s = time.perf_counter() - started
    print(f"unpartitioned {counts} in {setup_s:.1f} s (setup)", flush=True)

    raw = raw_copy(connection)
    raw_s = sum(raw.values())
    print(f"raw INSERT … SELECT: {raw_s:.2f} s {raw}", flush=True)
    connection.close()

    cpu_before = os.times()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "partition_history", "--convert"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    convert_wall = time.perf_counter() - started
    cpu_after = os.times()
    log = done.stdout
    print(log, flush=True)
    tables_s = {
        line.split(":")[0]: float(line.rsplit(" in ", 1)[1].split()[0])
        for line in log.splitlines()
        if line.startswith("demands_") and ": done in " in line
    }
    convert_s = sum(tables_s.values())

    with connection.cursor() as cur:
        cur.execute("SELECT id, tracking_token FROM demands_demand ORDER BY random() LIMIT 300")
        sample = cur.fetchall()
        cur.execute("ANALYZE demands_demand_unpartitioned")
        cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'demands_demand'::regclass")
        partitions = cur.fetchone()[0]
    random.shuffle(sample)
    ids, tokens = [r[0] for r in sample], [r[1] for r in sample]
    on_partitioned = lookups(connection, "demands_demand", ids, tokens)
    on_plain = lookups(connection, "demands_demand_unpartitioned", ids, tokens)

    result = {
        "bench": "partition_convert",
        "database": "postgresql",
        "rows": counts,
        "raw_insert_select_seconds": {k: round(v, 2) for k, v in raw.items()},
        "raw_seconds": round(raw_s, 2),
        "convert_seconds_by_table": tables_s,
        "convert_seconds": round(convert_s, 2),
        "convert_wall_seconds_with_startup": round(convert_wall, 2),
        "convert_child_cpu_seconds": round(
            (cpu_after.children_user + cpu_after.children_system)
            - (cpu_before.children_user + cpu_before.children_system),
            2,
        ),
        "ratio_convert_to_raw": round(convert_s / raw_s, 2) if raw_s else None,
        "partitions_of_demands": partitions,
        "lookup_median_ms": {"partitioned": on_partitioned, "unpartitioned": on_plain},
        "note": "convert = copy month by month + every index, unique and foreign key again + swap; raw = the bare "
        "copy into tables without indexes. The database server's CPU is not in convert_child_cpu_seconds.",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "shared": "2 cores shared with other sessions: wall-clock figures depend on their load",
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    total = counts["demands_demand"]
    label = f"{total // 1_000_000}m" if total >= 1_000_000 else f"{total // 1000}k"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"partition-convert-{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
