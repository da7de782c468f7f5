"""Duplicate finder benchmark: recall on the public sample, and the time of one query at 20,000 open demands.

Figures, each with how it was obtained:
- titles → bodies on messages-hot.csv (rows with a body): every body indexed (`matching.TextIndex`),
  every title ranks them; recall@1 and recall@5 (a body posted twice counts as found when either
  copy is), the same as `manage.py triage_duplicates_evaluate --halves 0`: also each half of the
  rows split at random with seed 0 (the settings were tuned on "tuning"; "held_out" was not looked at).
- ms per query at `--texts` open demands (20,000): the sample's titles + bodies cycled up to that many
  texts (each copy gets a number, so no two are the same), indexed once; `--queries` titles of the
  sample then searched (mean, median, p95 of wall-clock ms, and CPU ms per query, steadier on a
  shared machine); the same queries again with the second stage off (`LOCAL_WEIGHT` 0) for its cost.
- the per-request path: `similarity.rank_duplicates` over a pool of `DUPLICATE_POOL` (400) sample
  texts, the most the selector reads, with the pool's terms cached (as after the first request)
  and without (the first request).
- calibration, in the same run: a raw SQL `LIKE '%word%'` over the same 20,000 texts in an in-memory
  SQLite table (the crudest text filter a database offers), per query.

The shared data is looked for in /work/shared/data and ../shared/data; without it the benchmark says
so and exits 0. No database is needed.

    .venv/bin/python bench/bench_duplicates.py [--texts 20000] [--queries 500]

Results go to bench/results/duplicates.json, with the load average before and after.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
DATA_DIRS = [Path("/work/shared/data"), ROOT.parent / "shared" / "data"]
HOT = "messages-hot.csv"


def _data_dir() -> Path | None:
    for d in DATA_DIRS:
        if (d / HOT).is_file():
            return d
    return None


def _write(result: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "duplicates.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean": round(statistics.fmean(ordered), 3),
        "median": round(statistics.median(ordered), 3),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000, help="open demands indexed for the timing")
    parser.add_argument("--queries", type=int, default=500, help="queries timed")
    args = parser.parse_args()

    data = _data_dir()
    if data is None:
        reason = f"no {HOT} in " + " or ".join(str(d) for d in DATA_DIRS)
        print(f"bench_duplicates: skipped, {reason}")
        path = RESULTS / "duplicates.json"
        earlier = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        earlier["last_attempt"] = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "skipped": reason}
        _write(earlier)
        return 0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # the triage modules read settings-free code only, but import through the app

    from wangge.triage import matching
    from wangge.triage.evaluation import retrieval_recall
    from wangge.triage.matching import TextIndex, cached_terms
    from wangge.triage.selectors import DUPLICATE_POOL
    from wangge.triage.similarity import Candidate, rank_duplicates

    with open(data / HOT, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if (r.get("body") or "").strip() and (r.get("title") or "").strip()]
    load_before = os.getloadavg()
    result: dict[str, object] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": str(data / HOT),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
    }

    recall = retrieval_recall([r["title"] for r in rows], [r["body"] for r in rows], k=5, halves_seed=0)
    result["titles_to_bodies"] = recall
    print(f"titles → bodies ({recall['rows']} rows): recall@1 {recall['recall_at_1']}, @5 {recall['recall_at_5']}")

    texts = [f"{rows[i % len(rows)]['title']} {rows[i % len(rows)]['body']} {i}" for i in range(args.texts)]
    started = time.perf_counter()
    index = TextIndex(texts)
    built = time.perf_counter() - started
    queries = [rows[(i * 7) % len(rows)]["title"] for i in range(args.queries)]

    def timed() -> tuple[list[float], float]:
        wall = []
        cpu = time.process_time()
        for q in queries:
            t = time.perf_counter()
            index.search(q, 5)
            wall.append((time.perf_counter() - t) * 1000)
        return wall, round((time.process_time() - cpu) * 1000 / len(queries), 3)

    spent, cpu_ms = timed()
    local_weight = matching.LOCAL_WEIGHT
    matching.LOCAL_WEIGHT = 0.0
    first_stage, first_cpu_ms = timed()
    matching.LOCAL_WEIGHT = local_weight
    result["index"] = {
        "texts": args.texts,
        "build_seconds": round(built, 1),
        "ms_per_query": _ms(spent),
        "cpu_ms_per_query": cpu_ms,
        "first_stage_only": {"ms_per_query": _ms(first_stage), "cpu_ms_per_query": first_cpu_ms},
    }
    print(f"{args.texts} texts indexed in {built:.1f} s; ms per query {_ms(spent)}, CPU {cpu_ms} ms")
    print(f"  first stage only: {_ms(first_stage)}, CPU {first_cpu_ms} ms")

    # The per-request path: one new message against the selector's pool (the most it reads).
    pool = [
        Candidate(id=i, title=rows[i % len(rows)]["title"], description=rows[i % len(rows)]["body"])
        for i in range(DUPLICATE_POOL)
    ]
    cold, warm = [], []
    for q in queries[:50]:
        cached_terms.cache_clear()
        t = time.perf_counter()
        rank_duplicates(title=q, description="", candidates=pool, area_path="a/", window_days=14)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        rank_duplicates(title=q, description="", candidates=pool, area_path="a/", window_days=14)
        warm.append((time.perf_counter() - t) * 1000)
    result["pool"] = {"candidates": DUPLICATE_POOL, "ms_cold": _ms(cold), "ms_warm": _ms(warm)}
    print(f"rank_duplicates over {DUPLICATE_POOL}: cold {_ms(cold)}, warm {_ms(warm)}")

    # Calibration: a raw SQL LIKE over the same texts, in the same run.
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    db.executemany("INSERT INTO t (text) VALUES (?)", ((s,) for s in texts))
    raw = []
    for q in queries[:100]:
        word = q.strip()[:2] or "的"
        t = time.perf_counter()
        db.execute("SELECT id FROM t WHERE text LIKE ? LIMIT 5", (f"%{word}%",)).fetchall()
        db.execute("SELECT count(*) FROM t WHERE text LIKE ?", (f"%{word}%",)).fetchone()
        raw.append((time.perf_counter() - t) * 1000)
    median_raw = statistics.median(raw)
    result["raw_sql_like_ms"] = _ms(raw)
    result["ratio_to_raw_like"] = round(statistics.median(spent) / median_raw, 3) if median_raw else None
    load_after = os.getloadavg()
    result["load_after"] = [round(x, 2) for x in load_after]
    budget = {
        "recall_at_1 >= 0.80": recall["recall_at_1"] >= 0.80,
        "recall_at_5 >= 0.92": recall["recall_at_5"] >= 0.92,
        f"median ms per query at {args.texts} <= 5": statistics.median(spent) <= 5,
    }
    result["budget"] = budget
    path = _write(result)
    print(f"raw LIKE {_ms(raw)} ms; ratio {result['ratio_to_raw_like']}")
    print(f"load {load_before[0]:.1f} → {load_after[0]:.1f}")
    print(f"budget: {budget}; written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
