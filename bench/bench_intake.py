"""Intake benchmark: demands per second through the JSON API served by gunicorn, as ratios in the same run.

Three views behind the same gunicorn (bench/intake_urls.py, settings bench/intake_settings.py: DEBUG off,
persistent connections, REDIS_URL passed through), loaded by client threads in this process:
- api: POST /api/v1/demands through the whole stack (middleware, bearer token, validation, category
  suggestion, routing, code counter, demand + event + outbox rows in one transaction);
- bare insert: a bare Django JSON view that INSERTs one demand row in its own transaction: the ceiling
  of any intake that writes a row (the budget compares against this one);
- bare echo: the same view without the INSERT: the cost of Django and HTTP alone.
The kinds alternate in rounds, so a change in the machine's load falls on all of them.
`--in-process` keeps the older measure through Django's test client (no HTTP, one process).

Budget (docs/architecture.md): api ≥ 0.5 × bare insert and ≥ 150 demands/s on 2 cores.

Usage (SQLite file under var/bench/ by default; DATABASE_URL=postgres://…/wangge_bench_intake for PostgreSQL,
whose demands it adds to; REDIS_URL=redis://127.0.0.1:6379/0 for the production limiter and cache):

    .venv/bin/python bench/bench_intake.py [--requests 600] [--rounds 2] [--workers 3] [--concurrency 8]

Results go to bench/results/intake-<vendor>.json and a line in bench/results/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale


def _setup() -> None:
    if "DATABASE_URL" not in os.environ:
        bench_dir = ROOT / "var" / "bench"
        bench_dir.mkdir(parents=True, exist_ok=True)
        db = bench_dir / "intake.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()


# urlconf of the benchmark: the real API next to a bare JSON view.
urlpatterns: list = []


def _urls() -> None:
    from django.http import HttpRequest, JsonResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from config.api import api

    @csrf_exempt
    def bare(request: HttpRequest) -> JsonResponse:
        data = json.loads(request.body)
        return JsonResponse({"ok": True, "echo": data.get("title", "")}, status=201)

    urlpatterns[:] = [path("bare/", bare), path("api/v1/", api.urls)]


def _world() -> tuple[object, str]:
    from django.core.management import call_command

    from wangge.accounts.models import Role
    from wangge.accounts.services import api_token_create
    from wangge.registry.models import Area
    from wangge.registry.testing import make_tree, make_user

    call_command("migrate", verbosity=0)
    city_code = "439999"
    if Area.objects.filter(code=city_code).exists():
        tree_grid = Area.objects.get(code=city_code + "10020101001")
        town = Area.objects.get(code=city_code + "100")
    else:
        tree = make_tree(city_code)
        tree_grid, town = tree.grid, tree.town
    from wangge.accounts.models import User

    user = User.objects.filter(username="bench_intake").first() or make_user(
        role=Role.TOWN, areas=[town], username="bench_intake"
    )
    _token, raw = api_token_create(user=user, name="bench")
    return tree_grid, raw


def bench(n: int) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings

    from wangge.core import clock
    from wangge.demands.models import Demand

    grid, raw = _world()
    _urls()
    settings.NOTIFY_BACKENDS = {k: "wangge.notifications.backends.LocalBackend" for k in settings.NOTIFY_BACKENDS}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    payload = {
        "title": "路灯不亮",
        "description": "小区门口路灯坏了三天，晚上很黑",
        "grid": grid.code,  # type: ignore[attr-defined]
        "reporter_phone": "13900001234",
        "category": "0102",
    }
    body = json.dumps(payload, ensure_ascii=False)
    stamp = int(time.time())
    results: dict[str, object] = {}
    with override_settings(ROOT_URLCONF=__name__):
        # Warm up both paths (imports, the suggestion callable, the boundary index).
        for i in range(5):
            client.post("/bare/", body, content_type="application/json")
            client.post(
                "/api/v1/demands", body, content_type="application/json", headers={"Idempotency-Key": f"w{stamp}-{i}"}
            )

        started = time.perf_counter()
        for _ in range(n):
            resp = client.post("/bare/", body, content_type="application/json")
            assert resp.status_code == 201
        bare_s = time.perf_counter() - started

        before = Demand.objects.count()
        started = time.perf_counter()
        for i in range(n):
            resp = client.post(
                "/api/v1/demands", body, content_type="application/json", headers={"Idempotency-Key": f"{stamp}-{i}"}
            )
            assert resp.status_code == 201, resp.content
        api_s = time.perf_counter() - started
        assert Demand.objects.count() - before == n

    table = Demand._meta.db_table
    now = clock.now()
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (code, tracking_token, short_code, kind, channel, urgency, title, description,"
                " address, reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path,"
                " holder_level, state, version, warning, escalations, highest_level, resolution, rating_reason,"
                " created_at, updated_at, accept_due_at, resolve_due_at)"
                " VALUES (%s, %s, %s, 'help', 'api', 'normal', %s, %s, '', '', %s, %s, %s, %s, %s, 'grid',"
                " 'submitted', 1, 'none', 0, 'grid', '', '', %s, %s, %s, %s)",
                [
                    f"RAW-{stamp}-{i}",
                    f"rawtoken-{stamp}-{i}",
                    f"r{stamp % 10**8:08d}{i:06d}",
                    payload["title"],
                    payload["description"],
                    payload["reporter_phone"],
                    grid.pk,  # type: ignore[attr-defined]
                    grid.path,  # type: ignore[attr-defined]
                    grid.pk,  # type: ignore[attr-defined]
                    grid.path,  # type: ignore[attr-defined]
                    now,
                    now,
                    now + dt.timedelta(hours=8),
                    now + dt.timedelta(days=5),
                ],
            )
    raw_s = time.perf_counter() - started

    api_rate, bare_rate, raw_rate = n / api_s, n / bare_s, n / raw_s
    results = {
        "vendor": connection.vendor,
        "requests": n,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "api_per_s": round(api_rate, 1),
        "bare_view_per_s": round(bare_rate, 1),
        "raw_insert_per_s": round(raw_rate, 1),
        "ratio_to_bare": round(api_rate / bare_rate, 3),
        "ratio_to_raw": round(api_rate / raw_rate, 3),
        "budget_ratio_to_bare": 0.25,
        "budget_per_s": 100,
        "met": api_rate / bare_rate >= 0.25 and api_rate >= 100,
        "queries_note": "api = validate, suggest, route, number, insert demand + event + outbox rows, one transaction",
    }
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - started
    finally:
        conn.close()


def _load(port: int, path: str, body: bytes, headers: Any, n: int, concurrency: int, offset: int = 0) -> dict[str, Any]:
    """`n` POSTs from `concurrency` threads; `headers(offset + i)` gives request i's headers."""
    lock = threading.Lock()
    next_i = iter(range(n))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def worker() -> None:
        while True:
            with lock:
                i = next(next_i, None)
            if i is None:
                return
            status, took = _post(port, path, body, headers(offset + i))
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "seconds": seconds,
        "statuses": statuses,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def _workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn workers of `master` (from /proc)."""
    total = 0
    for task in Path(f"/proc/{master}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def bench_gunicorn(n: int, rounds: int, workers: int, concurrency: int) -> dict[str, object]:
    from django.db import connection

    from wangge.demands.models import Demand

    grid, raw = _world()
    connection.close()
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-intake-not-a-secret-" + "x" * 40),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WANGGE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTEST_VERSION", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    payload = {
        "title": "路灯不亮",
        "description": "小区门口路灯坏了三天，晚上很黑",
        "grid": grid.code,  # type: ignore[attr-defined]
        "reporter_phone": "13900001234",
        "category": "0102",
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = int(time.time())
    auth = {"Authorization": f"Bearer {raw}"}
    kinds = {
        "bare_echo": ("/bare/echo/", lambda i: {}),
        "bare_insert": ("/bare/insert/", lambda i: {}),
        "api": ("/api/v1/demands", lambda i: {**auth, "Idempotency-Key": f"{stamp}-{i}"}),
    }
    try:
        for _ in range(300):
            try:
                if _post(port, "/bare/echo/", body, {})[0] == 201:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer")
        # Warm every worker on every path (imports, the triage model and rules, the boundary index).
        for path, headers in kinds.values():
            _load(port, path, body, headers, 10 * workers, workers, offset=10**6)
        load_before = os.getloadavg()[0]
        before = Demand.objects.filter(channel="api").exclude(code__startswith="RAW-").count()
        connection.close()
        runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for r in range(rounds):
            for kind, (path, headers) in kinds.items():
                cpu = _workers_cpu(server.pid)
                run = _load(port, path, body, headers, n, concurrency, offset=r * n)
                run["cpu_s"] = _workers_cpu(server.pid) - cpu
                runs[kind].append(run)
        load_after = os.getloadavg()[0]
        made = Demand.objects.filter(channel="api").exclude(code__startswith="RAW-").count() - before
    finally:
        server.terminate()
        server.wait(30)
    rates = {k: n * rounds / sum(run["seconds"] for run in v) for k, v in runs.items()}
    bad = {k: {s: c for run in v for s, c in run["statuses"].items() if s != 201} for k, v in runs.items()}
    assert made == n * rounds, (made, bad)
    api, insert, echo = rates["api"], rates["bare_insert"], rates["bare_echo"]
    return {
        "vendor": connection.vendor,
        "server": f"gunicorn, {workers} sync workers; {concurrency} client threads in the bench process",
        "limiter": "redis" if os.environ.get("REDIS_URL") else "database",
        "requests": n * rounds,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 1), round(load_after, 1)],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "api_per_s": round(api, 1),
        "bare_insert_per_s": round(insert, 1),
        "bare_echo_per_s": round(echo, 1),
        "ratio_to_bare_insert": round(api / insert, 3),
        "ratio_to_bare_echo": round(api / echo, 3),
        "per_round_per_s": {k: [round(n / run["seconds"], 1) for run in v] for k, v in runs.items()},
        # CPU the app server spends per request: steadier than wall-clock rates on a shared machine.
        "server_cpu_ms_per_request": {
            k: round(1000 * sum(r["cpu_s"] for r in v) / (n * rounds), 2) for k, v in runs.items()
        },
        "p50_ms": {k: round(statistics.median(run["p50_ms"] for run in v), 1) for k, v in runs.items()},
        "p95_ms": {k: round(max(run["p95_ms"] for run in v), 1) for k, v in runs.items()},
        "errors": bad,
        "budget_ratio_to_bare_insert": 0.5,
        "budget_per_s": 150,
        "met": api / insert >= 0.5 and api >= 150,
        "queries_note": "api = token, category, grid, scope, demand, event, staff, outbox, number: 9 statements",
    }


def _report(res: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"intake-{res['vendor']}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    load = res["load_average_1m"]
    line = (
        f"- {res['at']} intake ({res['vendor']}, {res['server']}, limiter {res['limiter']}, {res['requests']} requests"
        f" per kind, {res['cpus']} cpus, load {load[0]} → {load[1]}): API {res['api_per_s']:,}/s (p95"
        f" {res['p95_ms']['api']} ms), bare insert view {res['bare_insert_per_s']:,}/s, bare echo view"
        f" {res['bare_echo_per_s']:,}/s; ratio to bare insert {res['ratio_to_bare_insert']}"
        f" (budget ≥ 0.5 and ≥ 150/s: {'met' if res['met'] else 'MISSED'})"
    )
    with (RESULTS / "README.md").open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (make serve runs 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--in-process", action="store_true", help="the older measure: Django's test client")
    args = parser.parse_args()
    _setup()
    if args.in_process:
        res = bench(args.requests)
    else:
        res = bench_gunicorn(args.requests, args.rounds, args.workers, args.concurrency)
        _report(res)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"intake-{res['vendor']}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    line = (
        f"- {res['at']} intake ({res['vendor']}, {res['requests']} requests, {res['cpus']} cpus, "
        f"load {res['load_average_1m']}): API {res['api_per_s']:,}/s, bare view {res['bare_view_per_s']:,}/s, "
        f"raw insert {res['raw_insert_per_s']:,}/s; "
        f"ratio to bare {res['ratio_to_bare']} (budget ≥ 0.25 and ≥ 100/s: {'met' if res['met'] else 'MISSED'})"
    )
    with (RESULTS / "README.md").open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
