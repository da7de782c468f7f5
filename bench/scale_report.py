"""Scale report: the pages, a worker pass, the rollup build and intake on a big PostgreSQL database, each
as a ratio to the raw SQL it needs, measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale \\
        .venv/bin/python bench/scale_report.py [--repeat 5] [--intakes 200] [--rebuild]

The database is one bench/scale_generate.py filled (the Liuyang tree, its demo logins and N demands);
this script only adds a few hundred intakes and one API token. In one run it:
1. starts gunicorn (config.wsgi, --workers 2, like `make serve`) on a free port, with DEBUG off, no
   HTTPS redirect, no login lockout and rate limits high enough for a benchmark;
2. signs the demo users in (a session each, written the way a login writes it) and requests each page
   once to warm it (the first figure is kept as "cold_ms": the first request of a worker loads what it
   loads lazily), then --repeat times: p50 and p95 per page. Each page is paired with the raw SQL it
   needs (one page of rows, the counts it shows, or the rollup rows it sums; see RAW below), timed the
   same way on a direct connection: the ratio page p95 / raw p95 is what the goals compare;
3. intake: --intakes POSTs to /api/v1/demands from 4 threads, against the same number of single-row
   INSERTs (one transaction each) and of GET /healthz (the stack without the database) in the same run;
4. two `manage.py run_worker --once` passes after the intakes (the first catches up, the second is the
   steady pass), each hook's milliseconds parsed from its log line;
5. the rollup build: the seconds of the last `rollup_rebuild` (kept in dashboards_rollupstate, or run
   again with --rebuild) against a raw GROUP BY over the same rows (day × area × category × channel);
6. writes bench/results/scale-report-<N>.json (N = demands in the database, with the load average
   before and after: the machine is shared) and one line in bench/results/README.md.

`--only PAGE …` and `--skip pages|intake|worker|rollups` measure a part; `--merge` adds it to the JSON
an earlier run at the same N wrote. A worker pass that first catches up with generated history can
recompute many days of rollups on the current code: it is timed as it is (see docs/scaling.md).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
BIN = Path(sys.executable).parent
UNFINISHED = "('submitted','in_progress','escalated','reopened','suspended','verifying')"
OPEN = "('submitted','in_progress','escalated','reopened')"

# The environment of the server, the worker and this process: production settings minus HTTPS.
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
    "WANGGE_PUBLIC_BASE_URL": "http://127.0.0.1:8765",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_SSL_REDIRECT": "0",
    "AXES_ENABLED": "0",
    "LOG_LEVEL": "WARNING",
    "WANGGE_REPORT_RATE": "100000/m",
    "WANGGE_REPORT_IP_RATE": "100000/m",
    "OPEN311_ANONYMOUS_RATE": "100000/m",
    "OPEN311_READ_RATE": "100000/m",
}

# The raw SQL each page needs, on PostgreSQL. %(path)s is the user's area path, %(grid)s the grid leader's
# grid; the rest are the page's own constants. A list page needs one page of rows (it does not need to
# count them); a dashboard needs the rollup rows it sums plus today's live counts; the map the open and
# overdue counts per child area.
LIST_PAGE = (
    "SELECT d.id, d.code, d.title, d.state, d.created_at, d.holder_path FROM demands_demand d"
    " WHERE d.area_path LIKE %(path)s || '%%' ORDER BY d.created_at DESC, d.id DESC LIMIT 20"
)
QUEUE_PAGE = (
    "SELECT d.id, d.code, d.title, d.state, d.created_at FROM demands_demand d"
    f" WHERE d.holder_path LIKE %(path)s || '%%' AND d.state IN {UNFINISHED}"
    " ORDER BY d.created_at DESC, d.id DESC LIMIT 20"
)
MINE_PAGE = (
    "SELECT d.id, d.code, d.title, d.state, d.created_at FROM demands_demand d"
    f" WHERE d.holder_path = %(path)s AND d.state IN {UNFINISHED} ORDER BY d.created_at DESC, d.id DESC LIMIT 20"
)
LANDING = (
    "SELECT count(*) FILTER (WHERE d.state IN ('submitted','escalated','reopened')),"
    " count(*) FILTER (WHERE d.resolve_due_at < now()), count(*) FILTER (WHERE d.urgency = 'urgent'), count(*)"
    f" FROM demands_demand d WHERE d.holder_path LIKE %(path)s || '%%' AND d.state IN {UNFINISHED}"
)
DASHBOARD = (
    "SELECT sum(r.received), sum(r.open), sum(r.overdue), sum(r.resolved), sum(r.rated), sum(r.satisfied)"
    " FROM dashboards_demandrollup r WHERE r.area_path LIKE %(path)s || '%%' AND r.level = %(child)s"
    " AND r.cut = 'total' AND r.day >= (now() AT TIME ZONE 'Asia/Shanghai')::date - 29"
    " UNION ALL SELECT count(*), count(*) FILTER (WHERE d.state IN ('submitted','in_progress','escalated','reopened')),"
    " 0, 0, 0, 0 FROM demands_demand d WHERE d.area_path LIKE %(path)s || '%%'"
    " AND d.created_at >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'"
)
MAP = (
    "SELECT substr(d.area_path, 1, %(child_len)s), count(*), count(*) FILTER (WHERE d.resolve_due_at < now())"
    f" FROM demands_demand d WHERE d.state IN {OPEN} AND d.area_path LIKE %(path)s || '%%' GROUP BY 1"
)
WORKBENCH = (
    "SELECT d.id, d.code, d.title, d.state, d.created_at FROM demands_demand d"
    f" WHERE d.holder_area_id = %(grid)s AND d.state IN {UNFINISHED} ORDER BY d.created_at DESC LIMIT 20"
)
OPEN311 = (
    "SELECT d.code, d.state, d.title, d.created_at, d.updated_at, d.lat, d.lng, d.category_id FROM demands_demand d"
    " WHERE d.created_at >= now() - interval '90 days' ORDER BY d.created_at DESC LIMIT 1000"
)
ROLLUP_RAW = (
    "SELECT (d.created_at AT TIME ZONE 'Asia/Shanghai')::date, d.area_id, d.category_id, d.channel, count(*),"
    f" count(*) FILTER (WHERE d.state IN {OPEN}), count(*) FILTER (WHERE d.resolved_at IS NOT NULL),"
    " count(*) FILTER (WHERE d.satisfaction IS NOT NULL),"
    " count(*) FILTER (WHERE d.satisfaction IN ('satisfied','basic')), count(*) FILTER (WHERE d.escalations > 0),"
    " sum(extract(epoch FROM d.accepted_at - d.created_at)), sum(extract(epoch FROM d.resolved_at - d.created_at))"
    " FROM demands_demand d GROUP BY 1, 2, 3, 4"
)

# (name, user, path, raw SQL, its parameters by user)
PAGES: list[tuple[str, str | None, str, str]] = [
    ("city_dashboard", "demo_city", "/dashboards/", DASHBOARD),
    ("town_dashboard", "demo_town", "/dashboards/", DASHBOARD),
    ("city_landing", "demo_city", "/", LANDING),
    ("town_landing", "demo_town", "/", LANDING),
    ("city_queue", "demo_city", "/dashboards/console/?view=queue", QUEUE_PAGE),
    ("town_queue", "demo_town", "/dashboards/console/?view=queue", QUEUE_PAGE),
    ("town_console_mine", "demo_town", "/dashboards/console/?view=mine", MINE_PAGE),
    ("city_console_all", "demo_city", "/dashboards/console/?view=all", LIST_PAGE),
    ("city_demands_list", "demo_city", "/demands/", LIST_PAGE),
    ("town_demands_list", "demo_town", "/demands/", LIST_PAGE),
    ("grid_workbench", "demo_grid", "/visits/", WORKBENCH),
    ("city_map_json", "demo_city", "/dashboards/map.json", MAP),
    ("open311_requests_json", None, "/open311/v2/requests.json", OPEN311),
]


def _setup(url: str) -> None:
    os.environ.update(SERVER_ENV)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 1),
        "p95_ms": round(percentile(samples, 0.95) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "n": len(samples),
    }


class Server:
    """gunicorn on a free port, as `make serve` starts it (two workers on two cores)."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = _free_port()
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url}
        env["WANGGE_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self.port}"
        self.log = (ROOT / "var" / "scale-gunicorn.log").open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--timeout", "900", "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                status, _body, _s = self.get("/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit("gunicorn did not answer /healthz within 120 s (see var/scale-gunicorn.log)")

    def request(self, method: str, path: str, *, cookie: str = "", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, float]:  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        hdrs = {"Host": "127.0.0.1", **(headers or {})}
        if cookie:
            hdrs["Cookie"] = f"sessionid={cookie}"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        seconds = time.perf_counter() - started
        conn.close()
        return resp.status, data, seconds

    def get(self, path: str, cookie: str = "") -> tuple[int, bytes, float]:
        return self.request("GET", path, cookie=cookie)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def sessions() -> dict[str, str]:
    """A signed-in session per demo user, written the way django.contrib.auth.login writes it."""
    from django.test import Client

    from wangge.accounts.models import User

    out = {}
    for name in ("demo_city", "demo_town", "demo_grid"):
        client = Client()
        client.force_login(User.objects.get(username=name))
        out[name] = client.cookies["sessionid"].value
    return out


def scopes() -> dict[str, dict[str, Any]]:
    """Each demo user's area path (and the grid leader's grid), the parameters of the raw SQL."""
    from wangge.accounts.models import User
    from wangge.registry.models import LEVEL_DEPTH, Area

    child = {"city": "town", "town": "village", "village": "branch", "branch": "grid", "grid": "grid"}
    out: dict[str, dict[str, Any]] = {}
    for name in ("demo_city", "demo_town", "demo_grid"):
        user = User.objects.get(username=name)
        area = user.scopes.select_related("area").first().area  # type: ignore[union-attr]
        first_child = Area.objects.filter(parent=area).order_by("path").first()
        out[name] = {
            "path": area.path,
            "grid": area.pk,
            "child": child[area.level],
            "child_len": len(first_child.path) if first_child else len(area.path),
            "level": area.level,
            "depth": LEVEL_DEPTH[area.level],
        }
    out[""] = {**out["demo_city"]}
    return out


def time_raw(cur: Any, sql: str, params: dict[str, Any], repeat: int) -> dict[str, float]:
    cur.execute(sql, params)  # warm, as the page was
    cur.fetchall()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        samples.append(time.perf_counter() - started)
    return summary(samples)


def measure_pages(server: Server, cur: Any, repeat: int, only: list[str] | None) -> dict[str, Any]:
    cookies = sessions()
    params = scopes()
    out: dict[str, Any] = {}
    for name, user, path, raw_sql in PAGES:
        if only and name not in only:
            continue
        cookie = cookies[user] if user else ""
        status, body, cold = server.get(path, cookie)
        samples, statuses = [], {status}
        for _ in range(repeat):
            status, body, seconds = server.get(path, cookie)
            statuses.add(status)
            samples.append(seconds)
        page = summary(samples)
        raw = time_raw(cur, raw_sql, params[user or ""], repeat)
        out[name] = {
            "path": path,
            "user": user,
            "statuses": sorted(statuses),
            "bytes": len(body),
            "cold_ms": round(cold * 1000, 1),
            **page,
            "raw_p50_ms": raw["p50_ms"],
            "raw_p95_ms": raw["p95_ms"],
            "ratio_p95": round(page["p95_ms"] / raw["p95_ms"], 2) if raw["p95_ms"] else None,
        }
        print(
            f"  {name:24} p50 {page['p50_ms']:9.1f} ms  p95 {page['p95_ms']:9.1f} ms  raw p95 {raw['p95_ms']:8.1f} ms"
            f"  ratio {out[name]['ratio_p95']}  cold {cold * 1000:.0f} ms  {sorted(statuses)}",
            flush=True,
        )
    return out


def measure_intake(server: Server, cur: Any, n: int, threads: int = 4) -> dict[str, Any]:
    from wangge.accounts.models import User
    from wangge.accounts.services import api_token_create
    from wangge.registry.models import Area

    user = User.objects.get(username="demo_town")
    _token, raw_token = api_token_create(user=user, name="scale-report")
    town = user.scopes.select_related("area").first().area  # type: ignore[union-attr]
    grid = Area.objects.filter(path__startswith=town.path, level="grid").order_by("path").first()
    assert grid is not None
    stamp = int(time.time())
    bodies = [
        json.dumps(
            {
                "title": "路灯不亮",
                "description": f"小区门口路灯坏了三天，晚上很黑（{i}）",
                "grid": grid.code,
                "reporter_phone": f"139{(stamp + i) % 10**8:08d}",
                "category": "0102",
            },
            ensure_ascii=False,
        ).encode()
        for i in range(n)
    ]

    def post(i: int) -> tuple[int, float]:
        status, _body, seconds = server.request(
            "POST", "/api/v1/demands", body=bodies[i],
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {raw_token}",
                     "Idempotency-Key": f"scale-{stamp}-{i}"},
        )  # fmt: skip
        return status, seconds

    def health(_i: int) -> tuple[int, float]:
        status, _body, seconds = server.get("/healthz")
        return status, seconds

    def run(func: Any) -> tuple[float, list[tuple[int, float]]]:
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(func, range(n)))
        return time.perf_counter() - started, results

    api_s, api = run(post)
    bare_s, _bare = run(health)
    started = time.perf_counter()
    for i in range(n):
        cur.execute(
            "INSERT INTO demands_demand (code, tracking_token, short_code, kind, channel, urgency, title, description,"
            " address, reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path, holder_level,"
            " state, version, warning, escalations, highest_level, resolution, rating_reason, created_at, updated_at,"
            " accept_due_at, resolve_due_at) VALUES (%s, %s, %s, 'help', 'api', 'normal', '路灯不亮', %s, '', '', '',"
            " %s, %s, %s, %s, 'grid', 'submitted', 1, 'none', 0, 'grid', '', '', now(), now(),"
            " now() + interval '8 hours', now() + interval '5 days')",
            [f"RAW-{stamp}-{i}", f"rawtoken-{stamp}-{i}", f"r{stamp % 10**8:08d}{i:05d}", f"raw {i}",
             grid.pk, grid.path, grid.pk, grid.path],
        )  # fmt: skip
    raw_s = time.perf_counter() - started
    cur.execute("DELETE FROM demands_demand WHERE code LIKE %s", [f"RAW-{stamp}-%"])
    errors = sum(1 for status, _s in api if status not in (200, 201))
    return {
        "requests": n,
        "threads": threads,
        "api_per_s": round(n / api_s, 1),
        "api_latency": summary([s for _st, s in api]),
        "api_errors": errors,
        "healthz_per_s": round(n / bare_s, 1),
        "raw_insert_per_s": round(n / raw_s, 1),
        "ratio_to_healthz": round(bare_s / api_s, 3),
        "ratio_to_raw_insert": round(raw_s / api_s, 3),
        "note": "raw = one single-row INSERT per transaction on one connection (autocommit), sequential",
    }


HOOK_LINE = re.compile(
    r"^(?P<path>[\w.]+)(?: FAILED after (?P<failed>[\d.]+) ms: .*| *: (?P<result>.*) \((?P<ms>[\d.]+) ms\))$"
)


def measure_worker(url: str, passes: int) -> list[dict[str, Any]]:
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url}
    out = []
    for _ in range(passes):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "run_worker", "--once", "-v", "1"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
        hooks = {}
        for line in proc.stdout.splitlines():
            m = HOOK_LINE.match(line.strip())
            if m:
                ms = m["ms"] or m["failed"]
                hooks[m["path"]] = {"ms": float(ms), "result": (m["result"] or "FAILED")[:200]}
        out.append(
            {
                "wall_seconds": round(wall, 2),
                "hooks_seconds": round(sum(h["ms"] for h in hooks.values()) / 1000, 2),
                "ok": proc.returncode == 0,
                "hooks": hooks,
            }
        )
        print(
            f"  worker pass {wall:.1f} s: "
            + ", ".join(f"{k.rsplit('.', 1)[-1]} {v['ms']:.0f} ms" for k, v in hooks.items()),
            flush=True,
        )
    return out


def measure_rollups(url: str, cur: Any, rebuild: bool, demands: int) -> dict[str, Any]:
    if rebuild:
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url}
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "rollup_rebuild"], cwd=ROOT, env=env, check=True)
    # The worker's refresh writes the same state row as the rebuild: the build's own figure is the one
    # bench/scale_generate.py recorded for this database (or the rebuild just run here).
    cur.execute("SELECT seconds, days, finished_at FROM dashboards_rollupstate WHERE name = 'demands'")
    row = cur.fetchone()
    build_s = float(row[0]) if rebuild and row and row[0] is not None else None
    source = "rollup_rebuild in this run" if rebuild else None
    partial: dict[str, Any] | None = None
    if not rebuild:
        for path in sorted(RESULTS.glob("scale-generate-*.json")):
            data = json.loads(path.read_text())
            if data.get("written", {}).get("demands") and abs(data["written"]["demands"] - demands) < 0.01 * demands:
                if data.get("rollup_rebuild_seconds"):
                    build_s, source = data["rollup_rebuild_seconds"], f"{path.name} (manage.py rollup_rebuild)"
                    row = (build_s, None, dt.datetime.fromisoformat(data["measured_at"]))
                if data.get("rollups", {}).get("demands_per_second"):
                    partial = {"source": path.name, **data["rollups"]}
    samples = []
    for _ in range(2):
        started = time.perf_counter()
        cur.execute(ROLLUP_RAW)
        rows = cur.fetchall()
        samples.append(time.perf_counter() - started)
    raw_s = min(samples)
    cur.execute("SELECT count(*) FROM dashboards_demandrollup")
    rollup_rows = cur.fetchone()[0]
    return {
        "build_seconds": round(build_s, 1) if build_s is not None else None,
        "build_days": row[1] if row else None,
        "build_finished_at": row[2].isoformat(timespec="seconds") if row and row[2] else None,
        "build_demands_per_s": round(demands / build_s) if build_s else None,
        "raw_group_by_seconds": round(raw_s, 2),
        "raw_group_by_groups": len(rows),
        "ratio_build_to_raw": round(build_s / raw_s, 1) if build_s and raw_s else None,
        "rollup_rows": rollup_rows,
        "build_source": source,
        # Where only the last days were built (scale_generate --rollup-days), the same service's rate there,
        # and the whole build it implies at that rate, against the raw GROUP BY over every row.
        "partial_build": partial,
        "implied_full_build_seconds": round(demands / partial["demands_per_second"]) if partial else None,
        "implied_ratio_to_raw": round(demands / partial["demands_per_second"] / raw_s, 1)
        if partial and raw_s
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--intakes", type=int, default=200)
    parser.add_argument("--worker-passes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rebuild", action="store_true", help="run rollup_rebuild again and time it here")
    parser.add_argument("--only", nargs="*", help="some pages only (names as in PAGES)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["pages", "intake", "worker", "rollups"])
    parser.add_argument("--merge", action="store_true", help="merge into this N's existing JSON (parts run apart)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or "scale" not in url.rsplit("/", 1)[-1]:
        raise SystemExit("DATABASE_URL must be the PostgreSQL database bench/scale_generate.py filled (…/wangge_scale)")
    _setup(url)
    import psycopg

    load_before = os.getloadavg()
    conn = psycopg.connect(url, autocommit=True)
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM demands_demand")
    demands = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM demands_demandevent")
    events = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM demands_demand WHERE state IN " + OPEN)
    open_now = cur.fetchone()[0]
    print(f"{demands:,} demands, {events:,} events, {open_now:,} open; load {load_before[0]:.1f}", flush=True)
    result: dict[str, Any] = {
        "bench": "scale_report",
        "database": "postgresql",
        "postgresql_version": str(conn.execute("SHOW server_version").fetchone()[0]),  # type: ignore[index]
        "demands": demands,
        "events": events,
        "open": open_now,
        "repeat": args.repeat,
        "gunicorn_workers": args.workers,
    }
    server = Server(url, args.workers)
    try:
        if "pages" not in args.skip:
            print("pages (p50 / p95 over --repeat, after one warm request):", flush=True)
            result["pages"] = measure_pages(server, cur, args.repeat, args.only)
        if "intake" not in args.skip:
            print(f"intake: {args.intakes} POST /api/v1/demands from 4 threads…", flush=True)
            result["intake"] = measure_intake(server, cur, args.intakes)
            print(f"  {json.dumps(result['intake'], ensure_ascii=False)}", flush=True)
    finally:
        server.stop()
    if "worker" not in args.skip:
        print("worker passes (run_worker --once):", flush=True)
        result["worker"] = measure_worker(url, args.worker_passes)
    if "rollups" not in args.skip:
        print("rollup build vs raw GROUP BY…", flush=True)
        result["rollups"] = measure_rollups(url, cur, args.rebuild, demands)
        print(f"  {json.dumps(result['rollups'])}", flush=True)
    conn.close()
    load_after = os.getloadavg()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "shared": "2 cores shared with other sessions: compare ratios, not wall-clock figures, across runs",
    }
    result["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = f"{round(demands / 1_000_000)}m" if demands >= 1_000_000 else f"{demands // 1000}k"
    target = RESULTS / f"scale-report-{label}.json"
    if args.merge and target.exists():  # parts of one report measured in separate runs (--only, --skip)
        earlier = json.loads(target.read_text())
        result["pages"] = {**earlier.get("pages", {}), **result.get("pages", {})}
        result = {**earlier, **result, "runs": [*earlier.get("runs", [earlier["measured_at"]]), result["measured_at"]]}
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    pages = result.get("pages", {})
    worst = max(pages.items(), key=lambda kv: kv[1]["p95_ms"]) if pages else None
    steady = result.get("worker", [{}])[-1].get("wall_seconds") if result.get("worker") else None
    line = (
        f"- {result['measured_at']} scale report (postgresql, {demands:,} demands, {events:,} events, "
        f"{os.cpu_count()} cpus, load {load_before[0]:.1f} → {load_after[0]:.1f}): "
        + (
            f"slowest page {worst[0]} p95 {worst[1]['p95_ms']:,.0f} ms ({worst[1]['ratio_p95']}× raw); "
            if worst
            else ""
        )
        + (f"city dashboard p95 {pages['city_dashboard']['p95_ms']:,.0f} ms; " if "city_dashboard" in pages else "")
        + (f"worker pass {steady} s; " if steady is not None else "")
        + (
            f"rollup build {result['rollups']['build_seconds']} s vs raw GROUP BY "
            f"{result['rollups']['raw_group_by_seconds']} s; "
            if "rollups" in result
            else ""
        )
        + (
            f"intake {result['intake']['api_per_s']}/s ({result['intake']['api_errors']} errors)"
            if "intake" in result
            else ""
        )
        + "\n"
    )
    with (RESULTS / "README.md").open("a", encoding="utf-8") as fh:
        fh.write(line)
    print(line, end="")


if __name__ == "__main__":
    main()
