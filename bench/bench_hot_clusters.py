"""How close the worker's incremental hot clusters come to grouping from scratch, on real messages.

    .venv/bin/python bench/bench_hot_clusters.py [--csv /work/shared/data/messages-hot.csv] [--batch 120]

The messages (skipped when the file is absent) are fed in time order, --batch at a time (a worker
pass at 4 intakes a second every 30 s files 120), to `hotclusters.place`, the assignment the worker
runs, keeping the centroids as the worker does; then all of them are grouped from scratch with
`similarity.hot_groups`. Reported: pair precision and recall of the incremental groups against the
from-scratch ones (two messages in one group of two or more, over every such pair), how many of
the from-scratch top 10 have an incremental group with Jaccard ≥ 0.5, the CPU time of each, and
the load average. Writes bench/results/hot-clusters.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")


def pairs(groups: list[list[int]]) -> set[tuple[int, int]]:
    return {(a, b) for g in groups if len(g) >= 2 for a, b in itertools.combinations(sorted(g), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=Path("/work/shared/data/messages-hot.csv"))
    parser.add_argument("--batch", type=int, default=120)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--merge-threshold", type=float, default=None)
    parser.add_argument("--no-merge", action="store_true", help="without joining clusters whose centroids came close")
    args = parser.parse_args()
    if not args.csv.exists():
        print(f"skipped: {args.csv} is not here")
        return
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import numpy as np
    import scipy.sparse as sp

    from wangge.triage.hotclusters import CLUSTER_THRESHOLD, FEATURES, MERGE_THRESHOLD, close_groups, place, unit_counts
    from wangge.triage.similarity import HotRecord, hot_groups, hot_text

    def total(x: sp.csr_matrix) -> sp.csr_matrix:
        return (sp.csr_matrix(np.ones((1, x.shape[0]), dtype=np.float32)) @ x).tocsr()

    merge = {"threshold": args.merge_threshold} if args.merge_threshold is not None else {}
    threshold = args.threshold if args.threshold is not None else CLUSTER_THRESHOLD
    with args.csv.open(encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r.get("created_at") or "")
    records = [
        HotRecord(id=str(i), title=r["title"], body=r.get("body") or "", user=r.get("user") or "",
                  created_at=dt.datetime.fromisoformat(r["created_at"]) if r.get("created_at") else None)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    load_before = os.getloadavg()

    cpu = time.process_time()
    raw = unit_counts([hot_text(r.title, r.body) for r in records])
    vectors: dict[int, sp.csr_matrix] = {}
    sizes: dict[int, int] = {}
    label = np.zeros(len(records), dtype=np.int64)
    next_id = 0
    for start in range(0, len(records), args.batch):
        batch = raw[start : start + args.batch]
        ids = list(vectors)
        centroids = sp.vstack([vectors[i] for i in ids]).tocsr() if ids else sp.csr_matrix((0, FEATURES))
        joined, started = place(batch, ids, centroids, threshold=threshold)
        touched = []
        for cid, ks in [*joined.items(), *((None, ks) for ks in started)]:
            if cid is None:
                cid, next_id = next_id, next_id + 1
                vectors[cid], sizes[cid] = total(batch[ks]), 0
            else:
                vectors[cid] = (vectors[cid] + total(batch[ks])).tocsr()
            sizes[cid] += len(ks)
            label[[start + k for k in ks]] = cid
            touched.append(cid)
        if not args.no_merge:
            ids = list(vectors)
            matrix = sp.vstack([vectors[i] for i in ids]).tocsr()
            for group in close_groups(ids, matrix, np.array([sizes[i] for i in ids]), touched, **merge):
                keeper, *others = sorted(group, key=lambda c: (-sizes[c], c))
                for c in others:
                    vectors[keeper] = (vectors[keeper] + vectors.pop(c)).tocsr()
                    sizes[keeper] += sizes.pop(c)
                    label[label == c] = keeper
    incremental_cpu = time.process_time() - cpu
    members: dict[int, list[int]] = {}
    for i, c in enumerate(label):
        members.setdefault(int(c), []).append(i)
    incremental = [m for m in members.values() if len(m) >= 2]

    cpu = time.process_time()
    scratch_groups = hot_groups(records, top=len(records))
    scratch_cpu = time.process_time() - cpu
    scratch = [[int(i) for i in g.member_ids] for g in scratch_groups]

    mine, theirs = pairs(incremental), pairs(scratch)
    both = len(mine & theirs)
    top10 = scratch[:10]
    found = sum(1 for g in top10 if any(len(set(g) & set(m)) / len(set(g) | set(m)) >= 0.5 for m in incremental))
    result = {
        "messages": len(records),
        "batch": args.batch,
        "threshold": threshold,
        "merge": not args.no_merge,
        "merge_threshold": args.merge_threshold or MERGE_THRESHOLD,
        "groups": {"incremental": len(incremental), "scratch": len(scratch)},
        "pair_precision": round(both / len(mine), 3) if mine else None,
        "pair_recall": round(both / len(theirs), 3) if theirs else None,
        "scratch_top10_found": found,
        "cpu_seconds": {"incremental": round(incremental_cpu, 2), "scratch": round(scratch_cpu, 2)},
        "load_average": [round(x, 2) for x in load_before],
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False))
    if args.threshold is None and args.merge_threshold is None and not args.no_merge:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "hot-clusters.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
