"""Load N demands and their events (about 4 a demand, over two years) into a PostgreSQL database, set-based.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_scale \\
        .venv/bin/python bench/scale_generate.py --demands 1000000        # a fresh city, then 1 M demands
    ... bench/scale_generate.py --demands 5000000 --append                # grow the same database to 5 M

What it does, in order:
1. unless --append: drops and recreates the named database (its name must contain "scale"), runs
   `manage.py migrate` and `manage.py seed_demo --scale liuyang --registry-only` (the demo's Liuyang
   tree: 32 towns, 325 villages, 1,127 branches, 32,000 micro-grids, 419,200 households and the demo
   logins the scale report signs in with). With --template DB the migrated, seeded tree is copied from
   that database instead (CREATE DATABASE … TEMPLATE), and saved there on the first run;
2. inserts the missing demands (up to --demands in total) with `INSERT … SELECT … FROM generate_series`,
   in chunks of --chunk rows, straight into the tables the migrations made (demands_demand,
   demands_demandevent), so the app runs on the result. The secondary indexes are dropped first and
   built again at the end (their definitions are kept in bench_scale_indexes until then, so an
   interrupted load puts them back on its next run), and foreign-key triggers are off for the session
   (the rows are consistent by construction);
3. the steady state the worker keeps (STEADY_SQL: no demand still waiting past its accept limit),
   VACUUM ANALYZE, and `manage.py rollup_rebuild` (the app's own first build of the dashboard
   rollups, timed), or with --rollup-days D the same per-day service over the last D days only;
4. prints and writes bench/results/scale-generate-<N>.json: rates, the shape of what was written
   (states, open and overdue shares, channels, levels, ratings) and bytes per demand.

The shape follows the practice the product is built for (docs in the repository only describe the
product; the numbers are the generator's own choices): nearly every demand is finished (about 1.5 %
still open, most of them from the last weeks, a backlog of old ones past their limit), most solved in
the grid (微事不出格: grid 70 %, branch 12 %, village 10 %, town 6 %, city 2 %), 6 % dispatched to a
department, 75 % of closed demands rated with 85 % satisfied and 11 % basically satisfied, channels led
by the resident page, WeChat and household visits. Titles come from the triage sample messages
(/work/shared/data/messages-labelled-train.csv, or --texts FILE) when the file is there, else from a
short built-in list, so the hot-issue clustering sees real text.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
PYTHON = sys.executable
TEXTS = Path("/work/shared/data/messages-labelled-train.csv")
BUILT_IN_TEXTS = [
    ("小区门口路灯不亮", "晚上出行很不方便，请尽快修好。"),
    ("路面坑洼积水", "雨后积水严重，行人车辆难以通行。"),
    ("垃圾清运不及时", "垃圾桶满了好几天没人清理，气味很大。"),
    ("楼上漏水", "楼上住户漏水到我家，协商不成。"),
    ("噪音扰民", "附近工地夜间施工，影响休息。"),
    ("占道经营", "门口摊贩占道，堵塞交通。"),
    ("自来水停水", "小区停水两天，没有通知。"),
    ("拖欠工资", "在工地做工被拖欠工资三个月。"),
    ("低保咨询", "想咨询低保申请需要哪些材料。"),
    ("违章建筑", "邻居在楼顶搭建违章建筑。"),
    ("河道污染", "村里河道有人倒垃圾，水发臭。"),
    ("电梯故障", "电梯经常停运，老人上下楼困难。"),
]


def env_for(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
        "WANGGE_PUBLIC_BASE_URL": os.environ.get("WANGGE_PUBLIC_BASE_URL") or "http://127.0.0.1:8765",
        "LOG_LEVEL": "WARNING",
    }


def manage(url: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env_for(url), check=True)
    return time.perf_counter() - started


def manage_out(url: str, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env_for(url), check=True, capture_output=True, text=True
    )
    print(proc.stdout, end="", flush=True)
    return time.perf_counter() - started, proc.stdout


# The build rollup_rebuild does, limited to the last days (a full build of millions of demands takes hours
# on the code this was written against): the same per-day service, then the state the worker reads, so
# that its next pass refreshes what changed instead of starting a full build.
RECENT_ROLLUPS = """
import datetime as dt
from wangge.core import clock
from wangge.dashboards import services
from wangge.dashboards.models import RollupState
began = clock.now()
top_event, top_visit = services._top_ids()
today = clock.today_local()
report = services.rollup_refresh(since=began, days=[today - dt.timedelta(days=k) for k in range({days})])
RollupState.objects.update_or_create(name="demands", defaults=dict(refreshed_at=began, last_event_id=top_event,
    last_visit_id=top_visit, finished_at=clock.now(), days=report.days, seconds=report.seconds))
print(report)
"""
ROLLUP_LINE = re.compile(r"rollups: (?P<days>\d+) days, (?P<demands>\d+) demands, (?P<rows>\d+) rows.*; (?P<ms>\d+) ms")


def parse_rollups(out: str) -> dict[str, Any]:
    m = ROLLUP_LINE.search(out)
    if not m:
        return {}
    seconds = int(m["ms"]) / 1000
    return {
        "days": int(m["days"]),
        "demands": int(m["demands"]),
        "rows": int(m["rows"]),
        "seconds": round(seconds, 1),
        "demands_per_second": round(int(m["demands"]) / seconds) if seconds else None,
    }


def admin_url(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/postgres")), parts.path.lstrip("/")


def fresh_city(url: str, template: str | None) -> dict[str, float]:
    """Drop and create the database, then the migrated schema and the Liuyang tree (or a copy of it)."""
    import psycopg

    root, name = admin_url(url)
    if "scale" not in name:
        raise SystemExit("DATABASE_URL must name a database of its own for this bench (its name containing 'scale')")
    timings: dict[str, float] = {}
    with psycopg.connect(root, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        has_template = template and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
        if has_template:
            started = time.perf_counter()
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            timings["copy_template_seconds"] = time.perf_counter() - started
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    # migrate runs on a copied tree too: the template may be older than the code.
    timings["migrate_seconds"] = manage(url, "migrate", "--no-input", "-v", "0")
    if not has_template:
        timings["seed_demo_seconds"] = manage(url, "seed_demo", "--scale", "liuyang", "--registry-only", "-v", "0")
        if template:
            with psycopg.connect(root, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    return timings


def read_texts(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return BUILT_IN_TEXTS
    rows = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            title = (row.get("title") or "").strip()[:200]
            if title:
                rows.append((title, (row.get("body") or "").strip()[:2000] or title))
    return rows or BUILT_IN_TEXTS


# --- the lookups every chunk draws from ---------------------------------------------------------

SETUP_SQL = """
DROP TABLE IF EXISTS scale_grid, scale_anc, scale_cat, scale_dept, scale_text;
CREATE TEMP TABLE scale_grid AS
  SELECT (row_number() OVER (ORDER BY path) - 1)::int AS n, id, path
  FROM registry_area WHERE level = 'grid';
CREATE UNIQUE INDEX ON scale_grid (n);
-- Each grid's ancestors by the prefixes of its path (an equi-join, not a LIKE over every pair).
CREATE TEMP TABLE scale_anc AS
  SELECT g.n, a.level, a.id, a.path, a.name
  FROM scale_grid g
  CROSS JOIN LATERAL generate_series(1, array_length(string_to_array(g.path, '/'), 1) - 1) AS k
  JOIN registry_area a ON a.path = array_to_string((string_to_array(g.path, '/'))[1:k], '/') || '/';
CREATE UNIQUE INDEX ON scale_anc (n, level);
CREATE TEMP TABLE scale_cat AS
  SELECT (row_number() OVER (ORDER BY c.sort, c.code) - 1)::int AS n, c.id, c.needs_verification,
         c.default_department_id
  FROM demands_category c WHERE c.parent_id IS NOT NULL AND c.is_active;
CREATE TEMP TABLE scale_dept AS
  SELECT (row_number() OVER (ORDER BY id) - 1)::int AS n, id, name FROM registry_department;
CREATE UNIQUE INDEX ON scale_cat (n);
CREATE UNIQUE INDEX ON scale_dept (n);
CREATE TEMP TABLE scale_text (n int PRIMARY KEY, title text, body text);
"""

# One row of random draws per demand; the INSERT below turns them into columns.
DRAW_SQL = """
DROP TABLE IF EXISTS scale_draw;
CREATE TEMP TABLE scale_draw AS
SELECT i,
       -- busier grids first (town centres): a mild power law over the grid order
       floor(%(grids)s * power(random(), 1.3))::int AS grid_n,
       floor(%(cats)s * power(random(), 1.6))::int AS cat_n,
       floor(%(texts)s * random())::int AS text_n,
       random() * %(span)s AS age_s,
       random() AS u_open, random() AS u_state, random() AS u_chan, random() AS u_kind, random() AS u_urg,
       random() AS u_level, random() AS u_dept, random() AS u_rate, random() AS u_sat,
       -ln(1 - random()) AS e_acc, -ln(1 - random()) AS e_res, -ln(1 - random()) AS e_close
FROM generate_series(%(lo)s, %(hi)s - 1) AS i;
ANALYZE scale_draw;
"""

# Columns computed from the draws, stage by stage (each SELECT reads the one before).
INSERT_SQL = """
INSERT INTO demands_demand (
  code, tracking_token, short_code, kind, channel, category_id, urgency, title, description, address,
  reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path, holder_level,
  holder_department_id, dispatched_department_id, state, version, reported_at, accept_due_at, resolve_due_at,
  yellow_at, case_due_at, accepted_at, resolved_at, closed_at, warning, escalations, highest_level, resolution,
  satisfaction, rating_reason, rated_at, rated_solved, created_at, updated_at
)
WITH a AS (
  SELECT d.*, %(now)s::timestamptz - make_interval(secs => d.age_s) AS created,
         d.age_s / 86400.0 AS age_d,
         CASE WHEN d.u_kind < .45 THEN 'help' WHEN d.u_kind < .70 THEN 'complaint'
              WHEN d.u_kind < .85 THEN 'consultation' WHEN d.u_kind < .92 THEN 'report'
              WHEN d.u_kind < .99 THEN 'suggestion' ELSE 'praise' END AS kind,
         CASE WHEN d.u_chan < .30 THEN 'resident_web' WHEN d.u_chan < .50 THEN 'wechat_group'
              WHEN d.u_chan < .65 THEN 'wechat' WHEN d.u_chan < .80 THEN 'visit'
              WHEN d.u_chan < .95 THEN 'hotline' WHEN d.u_chan < .99 THEN 'inspection' ELSE 'api' END AS channel,
         CASE WHEN d.u_urg < .05 THEN 'urgent' ELSE 'normal' END AS urgency
  FROM scale_draw d
), b AS (
  SELECT a.*,
         -- open: most of the recent ones, a thin backlog of old ones past every limit
         (a.u_open < CASE WHEN a.age_d < 60 THEN .9 * exp(-a.age_d / 8.0) ELSE .002 END) AS is_open,
         a.created + CASE WHEN a.urgency = 'urgent' THEN interval '2 hours' ELSE interval '1 day' END AS accept_due,
         a.created + CASE WHEN a.urgency = 'urgent' THEN interval '1 day'
                          WHEN a.kind IN ('help', 'consultation', 'praise') THEN interval '4 days'
                          ELSE interval '18 days' END AS resolve_due,
         CASE WHEN a.u_level < .70 THEN 0 WHEN a.u_level < .82 THEN 1 WHEN a.u_level < .92 THEN 2
              WHEN a.u_level < .98 THEN 3 ELSE 4 END AS climb
  FROM a
), c AS (
  SELECT b.*,
         CASE WHEN b.is_open THEN
                CASE WHEN b.u_state < .20 THEN 'submitted' WHEN b.u_state < .80 THEN 'in_progress'
                     WHEN b.u_state < .92 THEN 'escalated' WHEN b.u_state < .95 THEN 'reopened'
                     WHEN b.u_state < .98 THEN 'suspended' ELSE 'verifying' END
              WHEN b.u_state < .03 THEN 'rejected'
              WHEN b.u_state < .05 THEN 'merged'
              WHEN b.age_d < 7 AND b.u_state < .45 THEN 'resolved'
              ELSE 'closed' END AS state
  FROM b
), d AS (
  SELECT c.*,
         CASE WHEN c.state = 'submitted' THEN 0 WHEN c.state = 'escalated' THEN greatest(c.climb, 1)
              ELSE c.climb END AS lvl,
         CASE WHEN c.state IN ('submitted', 'merged', 'rejected') THEN NULL
              ELSE least(c.created + make_interval(secs => c.e_acc * 5400), %(now)s::timestamptz) END AS accepted
  FROM c
), e AS (
  SELECT d.*,
         CASE WHEN d.state IN ('resolved', 'closed', 'verifying') THEN
                least(d.accepted + make_interval(secs => d.e_res * 30 * 3600), %(now)s::timestamptz) END AS resolved,
         CASE WHEN d.state = 'closed' AND d.u_rate < .75 THEN
                CASE WHEN d.u_sat < .85 THEN 'satisfied' WHEN d.u_sat < .96 THEN 'basic' ELSE 'unsatisfied' END
         END AS satisfaction,
         (ARRAY['grid', 'branch', 'village', 'town', 'city'])[d.lvl + 1] AS level_name,
         CASE WHEN d.u_dept < .06 OR (d.lvl >= 3 AND d.u_dept < .5) THEN floor(d.u_dept * 1000)::int %% %(depts)s
         END AS dept_n
  FROM d
)
SELECT
  'SC-' || to_char(e.created AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(e.i::text, 9, '0'),
  md5('scale-token-' || e.i), 's' || lpad(to_hex(e.i), 10, '0'),
  e.kind, e.channel, cat.id, e.urgency, t.title, t.body, '', '', '',
  g.id, g.path, holder.id, holder.path, e.level_name,
  CASE WHEN e.state IN ('in_progress', 'escalated') AND e.dept_n IS NOT NULL THEN dept.id END,
  dept.id, e.state, 1 + (e.state <> 'submitted')::int, e.created, e.accept_due, e.resolve_due,
  e.resolve_due - (e.resolve_due - e.created) / 5, e.created + interval '30 days',
  e.accepted, e.resolved,
  CASE WHEN e.state = 'closed' THEN least(e.resolved + make_interval(secs => e.e_close * 86400), %(now)s::timestamptz)
       WHEN e.state IN ('rejected', 'merged') THEN e.created + interval '2 hours' END,
  CASE WHEN e.state IN ('submitted', 'in_progress', 'escalated', 'reopened') AND e.resolve_due < %(now)s THEN 'red'
       WHEN e.state IN ('submitted', 'in_progress', 'escalated', 'reopened')
            AND e.resolve_due - (e.resolve_due - e.created) / 5 < %(now)s THEN 'yellow'
       ELSE 'none' END,
  e.lvl, e.level_name,
  CASE WHEN e.resolved IS NOT NULL THEN '已处理完毕，经现场核实问题已解决。' ELSE '' END,
  e.satisfaction, '',
  CASE WHEN e.satisfaction IS NOT NULL THEN least(e.resolved + interval '1 day', %(now)s::timestamptz) END,
  CASE WHEN e.satisfaction IS NOT NULL THEN e.satisfaction <> 'unsatisfied' END,
  e.created,
  greatest(e.created, coalesce(e.resolved, e.accepted, e.created))
FROM e
JOIN scale_grid g ON g.n = e.grid_n
JOIN scale_anc holder ON holder.n = e.grid_n AND holder.level = e.level_name
JOIN scale_cat cat ON cat.n = e.cat_n
JOIN scale_text t ON t.n = e.text_n
LEFT JOIN scale_dept dept ON dept.n = e.dept_n
ORDER BY e.created
"""

# The history each demand's columns imply: submit, accept, each climb, resolve, then rate or close
# (rejected and merged ones end there); a few reworked (reopen), returned and auto-escalated ones, as
# the measures read them. A cheap hash of the id decides those few.
EVENTS_SQL = """
INSERT INTO demands_demandevent (demand_id, at, actor_kind, action, from_state, to_state, from_holder, to_holder,
                                 note, is_public)
SELECT d.id, ev.at, ev.actor_kind, ev.action, ev.from_state, ev.to_state, '', '', '', true
FROM demands_demand d
CROSS JOIN LATERAL (VALUES
  (d.created_at, CASE WHEN d.channel IN ('visit', 'inspection', 'hotline') THEN 'staff' ELSE 'resident' END,
   'submit', '', 'submitted'),
  (d.accepted_at, 'staff', CASE WHEN d.accepted_at IS NOT NULL THEN 'accept' END, 'submitted', 'in_progress'),
  (d.created_at + interval '1 hour', 'staff',
   CASE WHEN d.state = 'rejected' THEN 'reject' WHEN d.state = 'merged' THEN 'merge' END, 'submitted', d.state),
  (d.resolved_at, 'staff', CASE WHEN d.resolved_at IS NOT NULL THEN 'resolve' END, 'in_progress',
   CASE WHEN d.state = 'verifying' THEN 'verifying' ELSE 'resolved' END),
  (coalesce(d.rated_at, d.closed_at), CASE WHEN d.satisfaction IS NOT NULL THEN 'resident' ELSE 'system' END,
   CASE WHEN d.state = 'closed' AND d.satisfaction IS NOT NULL THEN 'rate' WHEN d.state = 'closed' THEN 'close' END,
   'resolved', 'closed'),
  (d.created_at + interval '3 hours', 'resident',
   CASE WHEN (d.id * 2654435761) %% 1000 < 30 AND d.state IN ('closed', 'reopened') THEN 'reopen' END,
   'resolved', 'reopened'),
  (d.created_at + interval '30 minutes', 'staff',
   CASE WHEN (d.id * 2654435761) %% 1000 BETWEEN 30 AND 49 AND d.accepted_at IS NOT NULL THEN 'return_' END,
   'escalated', 'submitted'),
  (d.accept_due_at, 'system',
   CASE WHEN (d.id * 2654435761) %% 1000 BETWEEN 50 AND 99 AND d.escalations > 0 THEN 'auto_escalate' END,
   'submitted', 'escalated')
) AS ev(at, actor_kind, action, from_state, to_state)
WHERE d.id > %(lo)s AND d.id <= %(hi)s AND ev.action IS NOT NULL
UNION ALL
SELECT d.id, coalesce(d.accepted_at, d.created_at) + make_interval(hours => k), 'staff', 'escalate',
       'in_progress', 'escalated', '', '', '', true
FROM demands_demand d CROSS JOIN LATERAL generate_series(1, d.escalations) AS k
WHERE d.id > %(lo)s AND d.id <= %(hi)s AND d.escalations > 0
"""


# The steady state the worker keeps: a demand still waiting to be accepted past its limit has been
# escalated by the sweep long ago. The generator draws states without that history, so a waiting demand
# past its limit is made accepted (half way to its limit) with its accept event; otherwise the first worker
# pass would escalate thousands of them, one by one, and time that catch-up instead of a steady pass.
STEADY_SQL = """
WITH moved AS (
  UPDATE demands_demand d
  SET state = 'in_progress', accepted_at = d.created_at + (d.accept_due_at - d.created_at) / 2, version = d.version + 1
  WHERE d.code LIKE 'SC-%%' AND d.state IN ('submitted', 'escalated', 'reopened') AND d.accept_due_at < %(now)s
  RETURNING d.id, d.accepted_at, d.state
)
INSERT INTO demands_demandevent (demand_id, at, actor_kind, action, from_state, to_state, from_holder, to_holder,
                                 note, is_public)
SELECT m.id, m.accepted_at, 'staff', 'accept', 'submitted', 'in_progress', '', '', '', true FROM moved m
"""


def keep_indexes(cur: Any) -> int:
    """Drop the secondary indexes of the two tables, keeping their definitions in bench_scale_indexes.

    On partitioned tables (PostgreSQL since demands 0016) these are the parents' indexes: dropping one
    drops it on every partition, and its definition is kept without ONLY, so building it again builds
    it on every partition too."""
    cur.execute("CREATE TABLE IF NOT EXISTS bench_scale_indexes (name text PRIMARY KEY, definition text NOT NULL)")
    cur.execute(
        """
        INSERT INTO bench_scale_indexes (name, definition)
        SELECT i.indexname, replace(i.indexdef, ' ON ONLY ', ' ON ') FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename IN ('demands_demand', 'demands_demandevent')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ON CONFLICT (name) DO NOTHING
        """
    )
    cur.execute("SELECT name FROM bench_scale_indexes")
    names = [r[0] for r in cur.fetchall()]
    for name in names:
        cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    return len(names)


def restore_indexes(cur: Any) -> int:
    cur.execute("SELECT to_regclass('bench_scale_indexes') IS NOT NULL")
    if not cur.fetchone()[0]:
        return 0
    cur.execute("SELECT name, definition FROM bench_scale_indexes ORDER BY name")
    rows = cur.fetchall()
    for name, definition in rows:
        cur.execute("SELECT to_regclass(%s) IS NULL", [f'"{name}"'])
        if cur.fetchone()[0]:
            cur.execute(definition)
    cur.execute("DROP TABLE bench_scale_indexes")
    return len(rows)


def shape(cur: Any, now: dt.datetime) -> dict[str, Any]:
    """What was written, as shares (the realism the brief asks for, measured, not assumed)."""

    def shares(column: str) -> dict[str, float]:
        cur.execute(f"SELECT {column}, count(*) FROM demands_demand GROUP BY 1 ORDER BY 2 DESC")
        rows = cur.fetchall()
        total = sum(r[1] for r in rows) or 1
        return {str(k): round(v / total, 4) for k, v in rows}

    cur.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE state IN ('submitted', 'in_progress', 'escalated', 'reopened')),
               count(*) FILTER (WHERE state IN ('submitted', 'in_progress', 'escalated', 'reopened')
                                AND resolve_due_at < %s),
               count(*) FILTER (WHERE satisfaction IS NOT NULL),
               count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basic')),
               min(created_at), max(created_at)
        FROM demands_demand
        """,
        [now],
    )
    total, open_, overdue, rated, satisfied, first, last = cur.fetchone()
    cur.execute("SELECT count(*) FROM demands_demandevent")
    events = cur.fetchone()[0]
    return {
        "demands": total,
        "events": events,
        "events_per_demand": round(events / max(total, 1), 2),
        "open_share": round(open_ / max(total, 1), 4),
        "open": open_,
        "overdue_share_of_open": round(overdue / max(open_, 1), 4),
        "rated_share": round(rated / max(total, 1), 4),
        "satisfied_share_of_rated": round(satisfied / max(rated, 1), 4),
        "first_created": first.isoformat(timespec="seconds") if first else None,
        "last_created": last.isoformat(timespec="seconds") if last else None,
        "states": shares("state"),
        "channels": shares("channel"),
        "highest_level": shares("highest_level"),
        "satisfaction": shares("coalesce(satisfaction, '-')"),
        "kinds": shares("kind"),
    }


def sizes(cur: Any) -> dict[str, Any]:
    """Bytes on disk (heap + indexes + TOAST) of the tables a demand lives in, and per demand."""
    tables = ["demands_demand", "demands_demandevent", "dashboards_demandrollup"]
    out: dict[str, Any] = {}
    cur.execute("SELECT count(*) FROM demands_demand")
    demands = cur.fetchone()[0] or 1
    for table in tables:
        cur.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [table])
        if cur.fetchone()[0]:  # a partitioned table's bytes are its partitions'
            cur.execute(
                "SELECT sum(pg_total_relation_size(relid))::bigint, sum(pg_relation_size(relid))::bigint, "
                "sum(pg_indexes_size(relid))::bigint FROM pg_partition_tree(%s::regclass) WHERE isleaf",
                [table],
            )
        else:
            cur.execute(
                "SELECT pg_total_relation_size(%s::regclass), pg_relation_size(%s::regclass), "
                "pg_indexes_size(%s::regclass)",
                [table, table, table],
            )
        total, heap, indexes = cur.fetchone()
        out[table] = {"total_bytes": total, "heap_bytes": heap, "index_bytes": indexes}
    out["bytes_per_demand"] = round(sum(v["total_bytes"] for v in out.values()) / demands)
    cur.execute("SELECT pg_database_size(current_database())")
    out["database_bytes"] = cur.fetchone()[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demands", type=int, default=1_000_000, help="demands in the database at the end")
    parser.add_argument("--append", action="store_true", help="keep the database and add the missing demands")
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--days", type=int, default=730, help="history span ending now")
    parser.add_argument("--template", default="tree_wangge_scale", help="database holding the migrated tree")
    parser.add_argument("--texts", type=Path, default=TEXTS)
    parser.add_argument("--skip-rollups", action="store_true", help="no rollup_rebuild (time it elsewhere)")
    parser.add_argument(
        "--rollup-days", type=int, default=None, help="build the rollups of the last D days only (default: every day)"
    )
    args = parser.parse_args()

    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "set DATABASE_URL to a PostgreSQL database of its own (…/wangge_scale): the loader is set-based SQL"
        )
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    if not args.append:
        print("a fresh city: migrate and the Liuyang tree…", flush=True)
        timings.update(fresh_city(url, args.template))
    else:
        timings["migrate_seconds"] = manage(url, "migrate", "--no-input", "-v", "0")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    texts = read_texts(args.texts)
    # The months of the history must exist before the load, or every row lands in the DEFAULT partition.
    since = now - dt.timedelta(days=args.days + 31)
    timings["partitions_seconds"] = manage(url, "partition_history", "--ahead", "3", "--since", f"{since:%Y-%m}")

    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET session_replication_role = replica")  # foreign-key triggers off for this session
        restore_indexes(cur)  # an interrupted earlier load
        cur.execute("SELECT count(*), coalesce(max(id), 0) FROM demands_demand")
        have, _top = cur.fetchone()
        cur.execute("SELECT count(*) FROM demands_demand WHERE code LIKE 'SC-%%'")
        generated = cur.fetchone()[0]
        missing = max(0, args.demands - have)
        print(f"{have:,} demands there, {missing:,} to add", flush=True)
        cur.execute(SETUP_SQL)
        with cur.copy("COPY scale_text (n, title, body) FROM STDIN") as copy:
            for n, (title, body) in enumerate(texts):
                copy.write_row((n, title, body))
        cur.execute("ANALYZE scale_grid; ANALYZE scale_anc; ANALYZE scale_cat; ANALYZE scale_dept; ANALYZE scale_text")
        cur.execute("SELECT count(*) FROM scale_grid")
        grids = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM scale_cat")
        cats = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM scale_dept")
        depts = cur.fetchone()[0]
        if not grids or not cats or not depts:
            raise SystemExit("no grids, categories or departments: run without --append for a fresh city")

        insert_s = events_s = index_s = 0.0
        if missing:
            started = time.perf_counter()
            dropped = keep_indexes(cur)
            timings["drop_indexes_seconds"] = time.perf_counter() - started
            print(f"dropped {dropped} secondary indexes (kept in bench_scale_indexes)", flush=True)
            lo = generated
            hi_total = generated + missing
            while lo < hi_total:
                hi = min(lo + args.chunk, hi_total)
                params = {
                    "lo": lo, "hi": hi, "grids": grids, "cats": cats, "texts": len(texts), "depts": depts,
                    "span": args.days * 86400, "now": now,
                }  # fmt: skip
                started = time.perf_counter()
                cur.execute("SELECT coalesce(max(id), 0) FROM demands_demand")
                before_id = cur.fetchone()[0]
                cur.execute("BEGIN")
                cur.execute(DRAW_SQL, params)
                cur.execute(INSERT_SQL, params)
                cur.execute("SELECT coalesce(max(id), 0) FROM demands_demand")
                after_id = cur.fetchone()[0]
                cur.execute("COMMIT")
                chunk_insert = time.perf_counter() - started
                started = time.perf_counter()
                cur.execute(EVENTS_SQL, {"lo": before_id, "hi": after_id})
                chunk_events = time.perf_counter() - started
                insert_s += chunk_insert
                events_s += chunk_events
                print(
                    f"  {hi:,}/{hi_total:,} demands: {(hi - lo) / chunk_insert:,.0f} demands/s, "
                    f"events {chunk_events:.1f} s (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                lo = hi
        started = time.perf_counter()
        cur.execute(STEADY_SQL, {"now": now})
        print(f"steady state: {cur.rowcount:,} waiting demands past their limit made accepted", flush=True)
        timings["steady_state_seconds"] = time.perf_counter() - started
        if missing:
            started = time.perf_counter()
            rebuilt = restore_indexes(cur)
            index_s = time.perf_counter() - started
            print(f"rebuilt {rebuilt} indexes in {index_s:.0f} s", flush=True)
        cur.execute("SET session_replication_role = origin")
        cur.execute("SELECT count(*) FROM demands_demandevent")
        events_total = cur.fetchone()[0]
        started = time.perf_counter()
        cur.execute("VACUUM ANALYZE demands_demand")
        cur.execute("VACUUM ANALYZE demands_demandevent")
        timings["vacuum_analyze_seconds"] = time.perf_counter() - started

    rollup_s: float | None = None
    rollup: dict[str, Any] = {"mode": "skipped"}
    if not args.skip_rollups and args.rollup_days is None:
        print("manage.py rollup_rebuild…", flush=True)
        rollup_s, out = manage_out(url, "rollup_rebuild")
        rollup = {"mode": "manage.py rollup_rebuild (every day)", **parse_rollups(out)}
    elif not args.skip_rollups:
        print(f"the rollups of the last {args.rollup_days} days (the service rollup_rebuild runs per day)…", flush=True)
        rollup_s, out = manage_out(url, "shell", "-c", RECENT_ROLLUPS.format(days=args.rollup_days))
        rollup = {
            "mode": f"last {args.rollup_days} days only, then the state rollup_rebuild leaves",
            **parse_rollups(out),
        }
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute("ANALYZE")
        timings["analyze_seconds"] = time.perf_counter() - started
        written = shape(cur, now)
        disk = sizes(cur)
        version = str(conn.execute("SHOW server_version").fetchone()[0])

    total_load = insert_s + events_s + index_s
    result = {
        "bench": "scale_generate",
        "database": "postgresql",
        "postgresql_version": version,
        "demands_target": args.demands,
        "demands_added": missing,
        "appended": args.append,
        "now": now.isoformat(),
        "span_days": args.days,
        "insert_demands_seconds": round(insert_s, 1),
        "insert_events_seconds": round(events_s, 1),
        "rebuild_indexes_seconds": round(index_s, 1),
        "load_demands_per_second": round(missing / total_load) if missing and total_load else None,
        "rollup_rebuild_seconds": round(rollup_s, 1) if rollup_s is not None and args.rollup_days is None else None,
        "rollup_rebuild_demands_per_second": (
            round(written["demands"] / rollup_s) if rollup_s and args.rollup_days is None else None
        ),
        "rollups": rollup,
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "written": written,
        "events_in_database": events_total,
        "disk": disk,
        "texts": len(texts),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "shared": "2 cores shared with other sessions: wall-clock figures depend on their load",
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = f"{args.demands // 1_000_000}m" if args.demands >= 1_000_000 else f"{args.demands // 1000}k"
    if not missing:  # a second pass over a loaded database (rollups only): keep the load's own JSON
        label += "-rollups"
    (RESULTS / f"scale-generate-{label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
