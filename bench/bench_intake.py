"""Intake benchmark: demands per second through the JSON API, as ratios to raw limits in the same run.

Three figures on the same database in the same process:
- api: POST /api/v1/demands through the whole Django stack (middleware, bearer token, validation,
  category suggestion, routing, code counter, demand + event + outbox rows in one transaction);
- bare: a bare Django JSON view (parse the body, answer JSON) through the same stack: the cost of
  Django itself, the ceiling any API route can reach;
- raw: one parameterised INSERT of a demand row per transaction: the database's own limit.

Budget (docs/architecture.md): api ≥ 0.25 × bare and ≥ 100 demands/s on 2 cores.

Usage (SQLite file under var/bench/ by default; DATABASE_URL=postgres://…/wangge_bench_demands for PostgreSQL):

    .venv/bin/python bench/bench_intake.py [--requests 400]

Results go to bench/results/intake-<vendor>.json and a line in bench/results/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    _setup()
    res = bench(args.requests)
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
