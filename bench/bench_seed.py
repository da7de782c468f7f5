"""Time `seed_demo --scale liuyang` against the raw bulk-insert rate of the same database.

    .venv/bin/python bench/bench_seed.py                      # SQLite, a fresh file under var/bench/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_bench_seed .venv/bin/python bench/bench_seed.py

On PostgreSQL the named database is dropped and created again: give it a name of its own.

The seed runs in a child process (migrate first, untimed), so its wall time and peak memory
(`getrusage(RUSAGE_CHILDREN).ru_maxrss`) are its own. Then, in the same run and on the same
database, the household rows the seed wrote are read back and inserted raw into a copy of the
household table with the same indexes: `executemany` in one transaction on SQLite, `COPY` on
PostgreSQL. The ratio of the two rates says how much the generator and the ORM cost over the
database's own limit. Results go to bench/results/seed-<db>.json and one line of
bench/results/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale
PYTHON = sys.executable
COLUMNS = [
    "grid_id",
    "area_path",
    "key",
    "address",
    "head_name",
    "head_id_number_enc",
    "head_id_number_hash",
    "phone",
    "members",
    "care_tags",
    "created_at",
    "updated_at",
]


def manage(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def fresh_database(url: str) -> tuple[str, str]:
    """A clean database for this run; returns (engine label, DATABASE_URL)."""
    if not url or url.startswith("sqlite"):
        path = ROOT / "var" / "bench" / "seed.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return "sqlite", f"sqlite:///{path}"
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit("give the bench a database of its own, e.g. .../wangge_bench_seed")
    admin_url = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return "postgresql", url


def raw_insert_sqlite(path: str) -> tuple[int, float, dict[str, Any]]:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM registry_household").fetchall()
    ddl = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'registry_household' AND sql IS NOT NULL ORDER BY type DESC"
    ).fetchall()
    conn.execute("DROP TABLE IF EXISTS bench_household_raw")
    for (sql,) in ddl:  # the table first ("table" sorts after "index" descending), then its indexes
        sql = sql.replace('"registry_household"', '"bench_household_raw"')
        sql = sql.replace('INDEX "registry_household', 'INDEX "bench_household_raw')
        sql = sql.replace("INDEX registry_household", "INDEX bench_household_raw")
        conn.execute(sql)
    placeholders = ", ".join("?" for _ in COLUMNS)
    started = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO bench_household_raw ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows)
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE bench_household_raw")
    info = {"sqlite_version": sqlite3.sqlite_version}
    conn.close()
    return len(rows), seconds, info


def raw_insert_postgres(url: str) -> tuple[int, float, dict[str, Any]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM registry_household").fetchall()
        conn.execute("DROP TABLE IF EXISTS bench_household_raw")
        conn.execute("CREATE TABLE bench_household_raw (LIKE registry_household INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench_household_raw ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_household_raw")
        version = str((conn.execute("SHOW server_version").fetchone() or ["?"])[0])
        conn.commit()
    return len(rows), seconds, {"postgresql_version": version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="liuyang")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more seed_demo options")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]  # other work on the machine slows every figure here
    label, url = fresh_database(os.environ.get("DATABASE_URL", ""))
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40}
    print(f"[{label}] migrating…", flush=True)
    manage(env, "migrate", "--no-input", "-v", "0")
    print(f"[{label}] seed_demo --scale {args.scale}…", flush=True)
    seed_seconds = manage(env, "seed_demo", "--scale", args.scale, "--seed", str(args.seed), "-v", "0", *args.extra)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"[{label}] raw insert of the same household rows…", flush=True)
    if label == "sqlite":
        rows, raw_seconds, info = raw_insert_sqlite(url.removeprefix("sqlite:///"))
    else:
        rows, raw_seconds, info = raw_insert_postgres(url)

    seed_rate = rows / seed_seconds
    raw_rate = rows / raw_seconds
    result = {
        "bench": "seed_demo",
        "database": label,
        "scale": args.scale,
        "seed": args.seed,
        "extra_options": args.extra,
        "households": rows,
        "seed_seconds": round(seed_seconds, 2),
        "seed_peak_rss_mb": round(peak_mb, 1),
        "seed_households_per_second": round(seed_rate),
        "raw_method": "executemany, one transaction" if label == "sqlite" else "COPY FROM STDIN",
        "raw_seconds": round(raw_seconds, 2),
        "raw_rows_per_second": round(raw_rate),
        "seed_to_raw_ratio": round(seed_rate / raw_rate, 3),
        "note": "seed time covers the whole city (areas, leaders, departments, users, argon2 hashes), "
        "the raw rate only the household rows",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "platform": platform.platform(),
            **info,
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"seed-{label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    readme = RESULTS / "README.md"
    if not readme.exists():
        readme.write_text("# Benchmark results\n\nOne line per run, newest last. The JSON files hold the details.\n\n")
    with readme.open("a") as fh:
        fh.write(
            f"- {result['measured_at']} seed_demo --scale {args.scale} on {label}: "
            f"{rows:,} households in {seed_seconds:.1f} s ({seed_rate:,.0f}/s), peak {peak_mb:,.0f} MB; "
            f"raw {result['raw_method']} {raw_rate:,.0f} rows/s; ratio {seed_rate / raw_rate:.3f} "
            f"({os.cpu_count()} cpus, load {load_before:.1f} → {os.getloadavg()[0]:.1f})\n"
        )
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
