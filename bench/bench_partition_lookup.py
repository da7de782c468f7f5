"""Lookups by id on the partitioned tables: planning against execution, with and without plan reuse.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale1m \\
        .venv/bin/python bench/bench_partition_lookup.py [--ids 60] [--plain] [--pages 20]

A demand by id (`WHERE id = X`) and its events (`WHERE demand_id = X`) cannot name the month, so
PostgreSQL plans them over every partition and each partition's indexes. On a database
bench/scale_generate.py filled (partitioned by month) this measures, for --ids ids spread over the
whole history, in one run:

1. "literal": the SQL as Django sends it by default (psycopg's client-side binding, the id written into
   the statement, so every lookup is planned again): `EXPLAIN (ANALYZE, BUFFERS)` of each lookup, its
   planning and execution milliseconds, and the wall time of each lookup on its own;
2. "prepared": the same SQL prepared once on the connection (what settings.POSTGRESQL_OPTIONS makes
   psycopg do for a statement a connection runs repeatedly), after the 5 custom plans PostgreSQL
   makes before it settles on the generic one: `EXPLAIN (ANALYZE, BUFFERS) EXECUTE`, and the wall time;
3. with --plain, "plain": the same lookups, literal, on unpartitioned copies of the two tables with the
   same indexes (made once as bench_plain_*, kept for the next run; dropped with --drop-plain);
4. with --pages N, the staff detail page of N demands (`/demands/<id>/`, demo_city) through gunicorn as
   `make serve` runs it, with DATABASE_SERVER_SIDE_BINDING=0 (before) and as configured (after),
   each after 15 warm requests per worker; and the queries one detail page sends;
5. writes bench/results/partition-lookup-<N>.json (N = demands) with the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
TABLES = {"demands_demand": "id", "demands_demandevent": "demand_id"}


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "n": len(ordered),
    }


def queries() -> dict[str, str]:
    """The two lookups as the ORM writes them (every column; the events in their order)."""
    from django.db import connection

    from wangge.demands.models import Demand, DemandEvent

    out = {}
    for name, qs in (
        ("demand", Demand.objects.filter(pk=0)[:21]),
        ("events", DemandEvent.objects.filter(demand_id=0).order_by("at", "id")),
    ):
        sql, _params = qs.query.sql_with_params()
        out[name] = sql.replace("%s", "$1")
    assert connection.vendor == "postgresql"
    return out


def sample_ids(cur: Any, n: int) -> list[int]:
    """n demand ids drawn at random from the whole history (so from every month, as its rows weigh)."""
    cur.execute(
        "SELECT id FROM demands_demand TABLESAMPLE SYSTEM (0.5) REPEATABLE (13) ORDER BY md5(id::text) LIMIT %s", [n]
    )
    return [int(row[0]) for row in cur.fetchall()]


def explain(cur: Any, statement: str) -> tuple[float, float, int]:
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}")
    plan = cur.fetchone()[0][0]
    buffers = plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
    return float(plan["Planning Time"]), float(plan["Execution Time"]), int(buffers)


def measure(conn: Any, sql: str, ids: list[int], *, table: str = "") -> dict[str, Any]:
    """Literal and prepared, on one connection; `table` swaps the table name (the plain copies)."""
    if table:
        sql = re.sub(r'"demands_demand(event)?"', lambda m: f'"bench_plain_{m.group(0)[1:-1]}"', sql)
    cur = conn.cursor()
    for warm in ids[:5]:  # the catalog caches warm, as a connection that has served a few requests
        cur.execute(sql.replace("$1", str(warm)))
        cur.fetchall()
    planning, execution, buffers, wall = [], [], [], []
    for i in ids:
        p, e, b = explain(cur, sql.replace("$1", str(i)))
        planning.append(p)
        execution.append(e)
        buffers.append(b)
        started = time.perf_counter()
        cur.execute(sql.replace("$1", str(i)))
        cur.fetchall()
        wall.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {
        "literal": {"planning": _ms(planning), "execution": _ms(execution), "wall": _ms(wall)},
        "buffers_p50": statistics.median(buffers),
    }
    if table:
        return out
    cur.execute(f"PREPARE bench_lookup(bigint) AS {sql}")
    for warm in ids[:6]:  # five custom plans, then PostgreSQL compares them with the generic one
        cur.execute(f"EXECUTE bench_lookup({warm})")
        cur.fetchall()
    planning, execution, wall = [], [], []
    for i in ids:
        p, e, _b = explain(cur, f"EXECUTE bench_lookup({i})")
        planning.append(p)
        execution.append(e)
    # psycopg's own prepared statement (server-side binding), as the application's connection runs it
    bound = sql.replace("$1", "%s")
    for warm in ids[:6]:
        cur.execute(bound, [warm], prepare=True)
        cur.fetchall()
    for i in ids:
        started = time.perf_counter()
        cur.execute(bound, [i], prepare=True)
        cur.fetchall()
        wall.append((time.perf_counter() - started) * 1000)
    cur.execute("DEALLOCATE bench_lookup")
    out["prepared"] = {"planning": _ms(planning), "execution": _ms(execution), "wall": _ms(wall)}
    return out


def make_plain(cur: Any) -> None:
    """Unpartitioned copies with every index of the partitioned parents (kept between runs)."""
    for table in TABLES:
        plain = f"bench_plain_{table}"
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [plain])
        if cur.fetchone()[0]:
            continue
        started = time.perf_counter()
        cur.execute(f"CREATE TABLE {plain} AS SELECT * FROM {table}")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        for (definition,) in cur.fetchall():
            definition = re.sub(r"^CREATE (UNIQUE )?INDEX (\S+) ON (ONLY )?(public\.)?\S+", "", definition)
            cur.execute(f"CREATE INDEX ON {plain} {definition}")
        cur.execute(f"ANALYZE {plain}")
        print(f"  {plain}: made in {time.perf_counter() - started:.0f} s", flush=True)


def detail_pages(url: str, ids: list[int]) -> dict[str, Any]:
    """/demands/<id>/ as demo_city, before (no plan reuse) and after (settings as they are)."""
    import scale_report as sr
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from wangge.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="demo_city"))
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(f"/demands/{ids[0]}/").status_code
    partitioned = [q for q in ctx.captured_queries if re.search(r'"demands_demand(event)?"', q["sql"])]
    out: dict[str, Any] = {
        "status": status,
        "queries": len(ctx.captured_queries),
        "queries_on_partitioned_tables": len(partitioned),
    }
    cookie = sr.sessions()["demo_city"]
    for label, binding in (
        ("before_no_plan_reuse", "0"),
        ("after", os.environ.get("DATABASE_SERVER_SIDE_BINDING", "1")),
    ):
        os.environ["DATABASE_SERVER_SIDE_BINDING"] = binding
        server = sr.Server(url, 2)
        try:
            for warm in ids[:30]:  # each worker's connection sees each statement more than 10 times
                server.get(f"/demands/{warm}/", cookie)
            samples, statuses = [], set()
            for i in ids:
                status, _body, seconds = server.get(f"/demands/{i}/", cookie)
                statuses.add(status)
                samples.append(seconds * 1000)
        finally:
            server.stop()
        out[label] = {"server_side_binding": binding, "statuses": sorted(statuses), **_ms(samples)}
        print(f"  detail page {label}: {out[label]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", type=int, default=60)
    parser.add_argument("--plain", action="store_true", help="also on unpartitioned copies (made once)")
    parser.add_argument("--drop-plain", action="store_true", help="drop the unpartitioned copies and stop")
    parser.add_argument("--pages", type=int, default=0, help="detail pages to time through gunicorn")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "scale" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("DATABASE_URL must be the PostgreSQL database bench/scale_generate.py filled (…/wangge_scale)")
    import scale_report as sr

    sr._setup(url)
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    cur = conn.cursor()
    if args.drop_plain:
        cur.execute(f"DROP TABLE IF EXISTS {', '.join(f'bench_plain_{t}' for t in TABLES)}")
        return
    load_before = os.getloadavg()
    cur.execute("SELECT count(*) FROM demands_demand")
    demands = int(cur.fetchone()[0])  # type: ignore[index]
    cur.execute(
        "SELECT c.relname, (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid),"
        " (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid) FROM pg_class c WHERE c.relname = ANY(%s)",
        [list(TABLES)],
    )
    shape = {name: {"partitions": parts, "indexes": indexes} for name, parts, indexes in cur.fetchall()}
    ids = sample_ids(cur, args.ids)
    print(f"{demands:,} demands, {shape}; {len(ids)} ids; load {load_before[0]:.1f}", flush=True)
    result: dict[str, Any] = {
        "bench": "partition_lookup",
        "demands": demands,
        "tables": shape,
        "ids": len(ids),
        "postgresql_version": str(conn.execute("SHOW server_version").fetchone()[0]),  # type: ignore[index]
    }
    sqls = queries()
    if args.plain:
        make_plain(cur)
    for name, sql in sqls.items():
        fresh = psycopg.connect(url, autocommit=True)
        result[name] = measure(fresh, sql, ids)
        if args.plain:
            result[name]["plain"] = measure(fresh, sql, ids, table="plain")["literal"]
        fresh.close()
        print(f"  {name}: {json.dumps(result[name])}", flush=True)
    if args.pages:
        result["detail_page"] = detail_pages(url, ids[: args.pages])
    load_after = os.getloadavg()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "shared": "2 cores shared with other sessions: compare figures of the same run",
    }
    result["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    label = f"{round(demands / 1_000_000)}m" if demands >= 1_000_000 else f"{demands // 1000}k"
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"partition-lookup-{label}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
