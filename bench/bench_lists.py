"""Lists, queues and the red-flag sweep over N demands on PostgreSQL, each page against the raw SQL it needs.

Two steps, so that the pages can be measured again after a change without filling again:

    DATABASE_URL=postgres://…/wangge_lists_bench .venv/bin/python bench/bench_lists.py fill --demands 1000000
    DATABASE_URL=postgres://…/wangge_lists_bench .venv/bin/python bench/bench_lists.py measure [--repeat 15]

`fill` drops and migrates the database's schema, writes the reference city's tree (bench_dashboard's
32 towns × 10 villages × 3 branches × 33 grids), then N demands in set-based `INSERT … SELECT` over
`generate_series` (a year of history; most closed; the open ones mostly recent, a long tail of old
open demands past their limits and flagged red, a few that crossed their line in the last half hour
and wait for the sweep), and one staff user per queue.

`measure` times each page through Django's test client (the whole request: middleware, queries,
template) R times and reports its p95 next to the p95 of the raw SQL the page needs (the page of rows
and the capped count, written by hand), with the load average before and after. The machine is shared:
the ratio matters more than the milliseconds. Results: bench/results/lists-postgresql.json and a line
in bench/results/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
OPEN = "('submitted','in_progress','escalated','reopened')"
UNFINISHED = "('submitted','in_progress','escalated','reopened','suspended','verifying')"


def _setup() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database of its own (its name containing 'bench')")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


FILL_SQL = (
    """
WITH s AS (
  SELECT i, random() AS r_open, random() AS r_state, random() AS r_level, random() AS r_dept, random() AS r_win,
         (floor(random() * %(grids)s))::int AS gn,
         %(now)s::timestamptz - (random() * 365 * 86400) * interval '1 second' AS created
  FROM generate_series(%(start)s, %(stop)s) AS i
), t AS (
  SELECT s.*, g.*,
         CASE WHEN s.r_open < (CASE WHEN s.created > %(now)s::timestamptz - interval '20 days' THEN 0.6 ELSE 0.015 END)
           THEN CASE WHEN s.r_state < 0.45 THEN 'in_progress' WHEN s.r_state < 0.70 THEN 'submitted'
                     WHEN s.r_state < 0.85 THEN 'escalated' WHEN s.r_state < 0.90 THEN 'reopened'
                     WHEN s.r_state < 0.95 THEN 'suspended'
                     WHEN s.created > %(now)s::timestamptz - interval '2 days' THEN 'verifying'
                     ELSE 'in_progress' END
           -- Resolved and unrated for a week closes by itself (the sweep): older ones are closed.
           ELSE CASE WHEN s.r_state < 0.80 THEN 'closed'
                     WHEN s.r_state < 0.88 AND s.created > %(now)s::timestamptz - interval '6 days' THEN 'resolved'
                     WHEN s.r_state < 0.88 THEN 'closed'
                     WHEN s.r_state < 0.94 THEN 'rejected' ELSE 'merged' END
         END AS state,
         CASE WHEN s.r_level < 0.70 THEN 'grid' WHEN s.r_level < 0.82 THEN 'branch'
              WHEN s.r_level < 0.92 THEN 'village' WHEN s.r_level < 0.98 THEN 'town' ELSE 'city' END AS lvl,
         s.created + (ARRAY[24, 72, 120, 240])[1 + floor(s.r_win * 4)::int] * interval '1 hour' AS resolve_due
  FROM s JOIN lists_grids g ON g.n = s.gn
)
INSERT INTO demands_demand (
  code, tracking_token, short_code, kind, channel, category_id, urgency, title, description, address,
  reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path, holder_level,
  holder_department_id, dispatched_department_id, state, version, warning, escalations, highest_level,
  resolution, rating_reason, created_at, updated_at, accept_due_at, resolve_due_at, yellow_at, accepted_at,
  resolved_at)
SELECT
  'L-' || lpad(i::text, 9, '0'), 'lists-token-' || i, 'l' || i, 'help', 'resident_web',
  %(category)s, 'normal', '路灯不亮 ' || i, '小区门口路灯坏了', '', '', '1390000' || lpad((i %% 10000)::text, 4, '0'),
  gid, gpath,
  CASE lvl WHEN 'grid' THEN gid WHEN 'branch' THEN bid WHEN 'village' THEN vid WHEN 'town' THEN tid ELSE cid END,
  CASE lvl WHEN 'grid' THEN gpath WHEN 'branch' THEN bpath WHEN 'village' THEN vpath WHEN 'town' THEN tpath
       ELSE cpath END,
  lvl,
  CASE WHEN r_dept < 0.08 AND state IN ('in_progress','submitted','escalated') THEN %(dept)s + (i %% 8) END,
  CASE WHEN r_dept < 0.08 THEN %(dept)s + (i %% 8) END,
  state, 1,
  CASE WHEN state NOT IN """
    + OPEN
    + """ THEN 'none'
       WHEN resolve_due <= %(now)s::timestamptz - interval '30 minutes' THEN 'red'
       WHEN created + (resolve_due - created) * 0.8 <= %(now)s::timestamptz - interval '30 minutes' THEN 'yellow'
       ELSE 'none' END,
  CASE lvl WHEN 'grid' THEN 0 WHEN 'branch' THEN 1 WHEN 'village' THEN 2 WHEN 'town' THEN 3 ELSE 4 END,
  lvl, '', '', created, created,
  -- A waiting demand a level could still escalate has not been past its limit for long (the sweep climbs it):
  -- it arrived at its level within the last eight hours, or crossed its limit in the last half hour.
  CASE WHEN state IN ('submitted','escalated','reopened') AND lvl <> 'city'
            AND NOT (r_dept < 0.08 AND state IN ('in_progress','submitted','escalated'))
            AND created + interval '8 hours' <= %(now)s::timestamptz - interval '30 minutes'
       THEN %(now)s::timestamptz + r_win * interval '8 hours' ELSE created + interval '8 hours' END,
  resolve_due,
  created + (resolve_due - created) * 0.8,
  CASE WHEN state NOT IN ('submitted','escalated','merged') THEN created + interval '1 hour' END,
  CASE WHEN state IN ('resolved','closed','verifying') THEN created + interval '20 hours' END
FROM t
"""
)


def fill(n: int) -> None:
    from bench_dashboard import _tree
    from django.core.management import call_command
    from django.db import connection, transaction

    from wangge.accounts.models import Role
    from wangge.accounts.services import user_create
    from wangge.core import clock
    from wangge.demands.models import Category

    if "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit("DATABASE_URL must name a database for benchmarks (its name containing 'bench')")
    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    tree = _tree()
    now = clock.now()
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """CREATE TABLE lists_grids AS
            SELECT (row_number() OVER (ORDER BY gr.path) - 1)::int AS n, gr.id AS gid, gr.path AS gpath,
                   b.id AS bid, b.path AS bpath, v.id AS vid, v.path AS vpath, t.id AS tid, t.path AS tpath,
                   c.id AS cid, c.path AS cpath
            FROM registry_area gr JOIN registry_area b ON b.id = gr.parent_id JOIN registry_area v ON v.id = b.parent_id
            JOIN registry_area t ON t.id = v.parent_id JOIN registry_area c ON c.id = t.parent_id
            WHERE gr.level = 'grid'"""
        )
        cur.execute("CREATE UNIQUE INDEX ON lists_grids (n)")
    category = Category.objects.filter(parent__isnull=False).order_by("pk").values_list("pk", flat=True).first()
    dept = min(d.pk for d in tree["departments"])
    chunk = 250_000
    for start in range(0, n, chunk):
        with transaction.atomic(), connection.cursor() as cur:
            params = {"grids": len(tree["grids"]), "now": now, "start": start, "stop": min(start + chunk, n) - 1}
            cur.execute(FILL_SQL, {**params, "category": category, "dept": dept})
        print(f"  {min(start + chunk, n):,} demands", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE lists_grids")
        cur.execute("VACUUM ANALYZE demands_demand")
    seconds = time.perf_counter() - started
    town, grid = tree["towns"][3], tree["grids"][4000]
    village = next(v for v in tree["villages"] if grid.path.startswith(v.path))
    users = {
        "city": user_create(username="lists-city", password=None, role=Role.CITY_ADMIN, areas=[tree["city"]]),
        "town": user_create(username="lists-town", password=None, role=Role.TOWN, areas=[town]),
        "village": user_create(username="lists-village", password=None, role=Role.VILLAGE, areas=[village]),
        "grid": user_create(username="lists-grid", password=None, role=Role.GRID_LEADER, areas=[grid]),
        "department": user_create(
            username="lists-dept", password=None, role=Role.DEPARTMENT, departments=[tree["departments"][0]]
        ),
    }
    print(f"filled {n:,} demands in {seconds:.1f} s; users {', '.join(u.username for u in users.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="step", required=True)
    fill_p = sub.add_parser("fill")
    fill_p.add_argument("--demands", type=int, default=1_000_000)
    measure_p = sub.add_parser("measure")
    measure_p.add_argument("--repeat", type=int, default=15)
    measure_p.add_argument("--label", default="")
    measure_p.add_argument("--sweep-only", action="store_true", help="only the sweep's reads and passes")
    args = parser.parse_args()
    _setup()
    if args.step == "fill":
        fill(args.demands)
    else:
        measure(args.repeat, args.label, sweep_only=args.sweep_only)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _time(func: Any, repeat: int) -> float:
    func()  # warm: the first call pays for caches and plans
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return _p95(samples)


PAGE_SQL = "SELECT d.* FROM demands_demand d WHERE {where} ORDER BY d.created_at DESC, d.id DESC LIMIT {limit}"
COUNT_SQL = "SELECT COUNT(*) FROM (SELECT 1 FROM demands_demand d WHERE {where} LIMIT 1001) AS capped"
QUEUE_SQL = (
    "SELECT d.* FROM demands_demand d WHERE {where} AND d.state IN " + UNFINISHED + " ORDER BY d.resolve_due_at, d.id"
    " LIMIT {limit}"
)


def _raw(sqls: list[str], params: list[Any]) -> Any:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cur:
            for sql in sqls:
                cur.execute(sql, params)
                cur.fetchall()

    return run


def _plan(sql: str, params: list[Any]) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


def measure(repeat: int, label: str, *, sweep_only: bool = False) -> None:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client

    from wangge.accounts.models import User
    from wangge.core import clock
    from wangge.demands import sweep

    users = {u.username.removeprefix("lists-"): u for u in User.objects.filter(username__startswith="lists-")}
    town_path = users["town"].scopes.get().area.path
    city_path = users["city"].scopes.get().area.path
    grid_path = users["grid"].scopes.get().area.path
    dept = users["dept"].scopes.get().department_id
    settings.AXES_ENABLED = False  # force_login has no client address for the lockout's access log
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)

    def page(name: str, url: str, params: dict[str, str]) -> Any:
        def run() -> None:
            reset_queries()
            response = clients[name].get(url, params)
            if response.status_code != 200:
                raise SystemExit(f"{url} {params} answered {response.status_code}")

        return run

    city_vis = f"(d.area_path LIKE '{city_path}%%' OR d.holder_path LIKE '{city_path}%%')"
    town_vis = f"(d.area_path LIKE '{town_path}%%' OR d.holder_path LIKE '{town_path}%%')"
    unfinished = f"d.state IN {UNFINISHED}"
    held = "d.holder_path = '{}' AND d.holder_level = '{}' AND d.holder_department_id IS NULL AND " + unfinished
    cases: list[tuple[str, str, str, dict[str, str], list[str], float]] = [
        # name, user, url, params, the raw SQL the page needs, goal (s)
        (
            "list: city",
            "city",
            "/demands/",
            {},
            [
                PAGE_SQL.format(where=city_vis, limit=31),
                COUNT_SQL.format(where=city_vis),
                QUEUE_SQL.format(where=held.format(city_path, "city"), limit=20),
            ],
            0.2,
        ),
        (
            "list: town",
            "town",
            "/demands/",
            {},
            [
                PAGE_SQL.format(where=town_vis, limit=31),
                COUNT_SQL.format(where=town_vis),
                QUEUE_SQL.format(where=held.format(town_path, "town"), limit=20),
            ],
            0.2,
        ),
        (
            "console all: city",
            "city",
            "/dashboards/console/",
            {"view": "all"},
            [PAGE_SQL.format(where=city_vis, limit=31), COUNT_SQL.format(where=city_vis)],
            0.2,
        ),
        (
            "console queue: city",
            "city",
            "/dashboards/console/",
            {"view": "queue"},
            [
                PAGE_SQL.format(where=f"d.holder_path LIKE '{city_path}%%' AND {unfinished}", limit=31),
                COUNT_SQL.format(where=f"d.holder_path LIKE '{city_path}%%' AND {unfinished}"),
            ],
            0.2,
        ),
        (
            "console queue: town",
            "town",
            "/dashboards/console/",
            {"view": "queue"},
            [
                PAGE_SQL.format(where=f"d.holder_path LIKE '{town_path}%%' AND {unfinished}", limit=31),
                COUNT_SQL.format(where=f"d.holder_path LIKE '{town_path}%%' AND {unfinished}"),
            ],
            0.2,
        ),
        (
            "console mine: town",
            "town",
            "/dashboards/console/",
            {"view": "mine"},
            [
                PAGE_SQL.format(where=held.format(town_path, "town"), limit=31),
                COUNT_SQL.format(where=held.format(town_path, "town")),
            ],
            0.2,
        ),
        (
            "console queue: department",
            "dept",
            "/dashboards/console/",
            {"view": "queue"},
            [
                PAGE_SQL.format(where=f"d.holder_department_id = {dept} AND {unfinished}", limit=31),
                COUNT_SQL.format(where=f"d.holder_department_id = {dept} AND {unfinished}"),
            ],
            0.2,
        ),
        (
            "workbench: grid leader",
            "grid",
            "/visits/",
            {},
            [QUEUE_SQL.format(where=held.format(grid_path, "grid"), limit=50)],
            0.1,
        ),
    ]
    load_before = os.getloadavg()
    pages = []
    for name, user, url, params, sqls, goal in [] if sweep_only else cases:
        page_p95 = _time(page(user, url, params), repeat)
        raw_p95 = _time(_raw(sqls, []), repeat)
        pages.append(
            {
                "page": name,
                "url": url,
                "params": params,
                "p95_ms": round(page_p95 * 1000, 1),
                "raw_sql_p95_ms": round(raw_p95 * 1000, 2),
                "ratio": round(page_p95 / raw_p95, 1),
                "goal_ms": goal * 1000,
                "met": page_p95 <= goal,
            }
        )
        print(
            f"  {name:28} p95 {page_p95 * 1000:8.1f} ms   raw {raw_p95 * 1000:7.2f} ms   x{page_p95 / raw_p95:.1f}",
            flush=True,
        )
    # A deep page: thirty pages into the city's list by following the next links.
    client = clients["city"]
    url = "/demands/"
    for _ in range(0 if sweep_only else 30):
        body = client.get(url).content.decode()
        marker = body.split('rel="next"', 1)[0].rsplit('href="', 1)
        if 'rel="next"' not in body:
            break
        url = "/demands/" + marker[1].split('"', 1)[0].replace("&amp;", "&")
    deep_p95 = 0.0 if sweep_only else _time(lambda: client.get(url), repeat)
    print(f"  {'list: city, 30 pages deep':28} p95 {deep_p95 * 1000:8.1f} ms", flush=True)

    # The sweep: the red flag's candidates, the old predicate against the new, then whole passes.
    now = clock.now()
    old_red = (
        "SELECT id FROM demands_demand WHERE state IN " + OPEN + " AND resolve_due_at <= %s AND NOT (warning = 'red')"
        " ORDER BY resolve_due_at, id LIMIT 500"
    )
    new_red = str(sweep.due_for_red(now).values("pk").query.sql_with_params()[0])
    new_red_sql, new_params = sweep.due_for_red(now).values_list("pk")[:500].query.sql_with_params()
    red_old_p95 = _time(_raw([old_red], [now]), repeat)
    red_new_p95 = _time(_raw([new_red_sql], list(new_params)), repeat)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM demands_demand WHERE state IN " + OPEN + " AND warning = 'red'")
        already_red = cur.fetchone()[0]
    passes = []
    for _ in range(4):
        report = sweep.sweep_once()
        passes.append({"seconds": round(report.seconds, 3), "report": str(report)})
        print(f"  sweep pass: {report}", flush=True)
    load_after = os.getloadavg()
    result = {
        "label": label,
        "vendor": connection.vendor,
        "demands": _count_demands(),
        "repeat": repeat,
        "pages": pages,
        "list_city_30_pages_deep_p95_ms": round(deep_p95 * 1000, 1),
        "sweep": {
            "open_already_red": already_red,
            "red_candidates_old_predicate_p95_ms": round(red_old_p95 * 1000, 2),
            "red_candidates_new_predicate_p95_ms": round(red_new_p95 * 1000, 2),
            "red_plan_old": _plan(old_red, [now]),
            "red_plan_new": _plan(new_red_sql, list(new_params)),
            "passes": passes,
        },
        "plans": {} if sweep_only else {name: _plan(sqls[0], []) for name, _u, _url, _p, sqls, _g in cases},
        "load_average": [round(load_before[0], 1), round(load_after[0], 1)],
        "note": "2 cores shared with other sessions: compare the ratios, not the milliseconds",
        "new_red_query": new_red,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"lists-{connection.vendor}{'-' + label if label else ''}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}; load {result['load_average']}")
    if pages:
        parts = ", ".join(f"{p['page']} {p['p95_ms']} ms ({p['ratio']}× raw)" for p in pages)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        line = (
            f"- {stamp} lists ({connection.vendor}, {result['demands']:,} demands, {os.cpu_count()} cpus, shared,"
            f" load {result['load_average'][0]} → {result['load_average'][1]}): p95 {parts}; red-flag candidates"
            f" {result['sweep']['red_candidates_old_predicate_p95_ms']} ms with the old read,"
            f" {result['sweep']['red_candidates_new_predicate_p95_ms']} ms with the new"
            f" ({result['sweep']['open_already_red']:,} open demands already red)\n"
        )
        with (RESULTS / "README.md").open("a") as handle:
            handle.write(line)
        print(line, end="")


def _count_demands() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM demands_demand")
        return int(cur.fetchone()[0])


if __name__ == "__main__":
    main()
