"""Run every bench/bench_*.py, each in a process of its own, and say which passed.

    .venv/bin/python bench/run_all.py                     # small scale: minutes, results in bench/results/small/
    .venv/bin/python bench/run_all.py --scale medium      # bench/results/medium/
    .venv/bin/python bench/run_all.py --scale full        # the budgets' sizes (hours): bench/results/
    .venv/bin/python bench/run_all.py --only sweep intake # some of them
    .venv/bin/python bench/run_all.py --list              # what each scale passes to each bench

`make bench` runs the first; `make bench BENCH_ARGS="--scale full"` the last. Only the full scale
writes into bench/results/ itself, where the figures the README cites live: a quick run must not
overwrite them. Each bench writes its JSON (and a line of README.md) into the folder named by
WANGGE_BENCH_RESULTS, which this runner sets. DATABASE_URL is passed through: each bench says in its
docstring what it does to the database it is given (most drop and rebuild it: name one of its own).
A bench file without an entry in SCALES runs with its own defaults, so a new bench is never left out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

# Arguments per bench at each scale. "full" is each bench's own defaults:
# the sizes of the performance budget in docs/architecture.md.
SCALES: dict[str, dict[str, list[str]]] = {
    "small": {
        "boundaries": ["--grids", "600", "--towns", "2", "--villages", "6"],
        "dashboard": ["--demands", "20000", "--repeat", "3"],
        "import": ["--households", "3000", "--grids", "300", "--towns", "2", "--villages", "3"],
        "intake": ["--requests", "100"],
        "outbox": ["--messages", "300"],
        "parking": ["--events", "100", "--days", "3"],
        "seed": ["--scale", "small"],
        "sweep": ["--rows", "20000", "--due", "1000"],
        "triage": ["--skip-cv", "--fit-rows", "1000", "--calls", "100"],
    },
    "medium": {
        "boundaries": ["--grids", "3200", "--towns", "8", "--villages", "80"],
        "dashboard": ["--demands", "500000", "--repeat", "5"],
        "import": ["--households", "42000", "--grids", "3200", "--towns", "8"],
        "intake": ["--requests", "400"],
        "outbox": ["--messages", "2000"],
        "parking": ["--events", "1000", "--days", "30"],
        # A tenth of the reference city through seed_demo's scaled-down overrides.
        "seed": [
            "--scale",
            "liuyang",
            "--extra",
            "--towns",
            "8",
            "--villages",
            "80",
            "--grids",
            "3200",
            "--households",
            "41920",
        ],
        "sweep": ["--rows", "200000", "--due", "10000"],
        "triage": ["--folds", "3"],
    },
    "full": {},
}


def bench_names() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH.glob("bench_*.py"))


def results_dir(scale: str) -> Path:
    return BENCH / "results" if scale == "full" else BENCH / "results" / scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="bench names (bench_NAME.py), default all")
    parser.add_argument("--list", action="store_true", help="print the commands and exit")
    args = parser.parse_args()

    names = bench_names()
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"no bench/bench_{unknown[0]}.py (there are: {', '.join(names)})")
        names = [n for n in names if n in args.only]
    out = results_dir(args.scale)
    env = {**os.environ, "WANGGE_BENCH_RESULTS": str(out)}
    commands = {n: [sys.executable, str(BENCH / f"bench_{n}.py"), *SCALES[args.scale].get(n, [])] for n in names}
    if args.list:
        for cmd in commands.values():
            print(" ".join(cmd[1:]))
        return 0

    out.mkdir(parents=True, exist_ok=True)
    print(f"{len(names)} benches at {args.scale} scale, results in {out.relative_to(ROOT)}/", flush=True)
    outcome: dict[str, tuple[int, float]] = {}
    for name, cmd in commands.items():
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
        outcome[name] = (code, time.perf_counter() - start)

    print("\n=== summary")
    for name, (code, seconds) in outcome.items():
        print(f"{name:<12} {'ok' if code == 0 else f'FAILED (exit {code})':<18} {seconds:8.1f} s")
    failed = [n for n, (code, _) in outcome.items() if code != 0]
    print(f"{len(outcome) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
