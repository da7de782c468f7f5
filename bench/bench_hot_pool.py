"""What one hot-cluster pass costs as a city's pool of active clusters grows (no database).

    .venv/bin/python bench/bench_hot_pool.py [--sizes 20000 100000 200000] [--nnz 380]

The worker keeps the centroids of every city's active clusters (the longest hot window, 90 days) in
memory and, each pass, compares the new demands (120 at 4 intakes a second) with all of its city's:
`hotclusters._matrix` stacks them, `place` weighs them by an IDF counted over them and scales them to
unit length, and `close_groups` compares the clusters the pass touched with those of two members or
more. Every step but the last reads the whole pool, so a pass grows with it. This bench fills a pool
of N synthetic centroids (random hashed features, --nnz a vector: 380 is the mean of the public
sample's messages) and times those steps with the module's own functions, and the process's peak
memory. Calibration in the same run: one sparse product of the pool with the pass's 120 new vectors
(the least any exact comparison must do) and a copy of the pool's arrays.

The texts of a real county are mostly distinct: a county of about 230 demands a day keeps some
20,000 demands in its 90-day window; the 5 M benchmark's generator (6,800 a day, texts drawn from
5,525 sample messages) makes few clusters, so its passes do not show this cost.

Writes bench/results/hot-pool.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000, 200_000])
    parser.add_argument("--nnz", type=int, default=380)
    parser.add_argument("--batch", type=int, default=120)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import numpy as np

    from wangge.triage import hotclusters as hc

    rng = np.random.default_rng(0)
    now = dt.datetime.now(dt.UTC)

    def timed(fn: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        out = fn()
        return out, round(time.perf_counter() - started, 3)

    def measure(n: int) -> dict[str, Any]:
        city = hc._City()
        for pk in range(n):
            idx = np.unique(rng.integers(0, hc.FEATURES, args.nnz)).astype(np.int32)
            vector = hc.pack((idx, rng.random(idx.size).astype(np.float32)))
            city.keep(SimpleNamespace(pk=pk, vector=vector, last_at=now, size=1 if pk % 4 else 2))  # type: ignore[arg-type]
        batch = hc.unit_counts([f"小区门口路灯不亮，晚上出行很不方便，请尽快修好 {i}" for i in range(args.batch)])
        (ids, centroids), stack_s = timed(lambda: hc._matrix(city))
        _, place_s = timed(lambda: hc.place(batch, ids, centroids))
        sizes = np.array([city.size[i] for i in ids])
        _, close_s = timed(lambda: hc.close_groups(ids, centroids, sizes, ids[-args.batch :]))
        _, product_s = timed(lambda: centroids @ batch.T)
        _, copy_s = timed(lambda: (centroids.data.copy(), centroids.indices.copy()))
        pass_s = round(2 * stack_s + place_s + close_s, 3)  # a pass stacks the pool twice (assign, join)
        return {
            "clusters": n,
            "nnz": int(centroids.nnz),
            "pool_mb": round((centroids.data.nbytes + centroids.indices.nbytes) / 2**20),
            "stack_s": stack_s,
            "place_s": place_s,
            "close_groups_s": close_s,
            "pass_s": pass_s,
            "raw_product_s": product_s,
            "raw_copy_s": copy_s,
            "ratio_to_raw_product": round(pass_s / max(product_s, 1e-6), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }

    rows = []
    load_before = os.getloadavg()
    for n in args.sizes:
        rows.append(measure(n))
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "bench": "hot_pool",
        "batch": args.batch,
        "nnz_per_vector": args.nnz,
        "sizes": rows,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hot-pool.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
