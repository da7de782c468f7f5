"""Parking benchmark: gate events through the services, the lot measures, and the what-if replay.

Each figure is a ratio to a raw limit measured in the same run on the same database:
- gate events: `parking_entry` + `parking_exit` (validate, lock the lot, check idempotency,
  charge and explain the fee, conditional UPDATE) against a raw parameterised INSERT and UPDATE
  of the same rows, each pair in its own transactions;
- measures: `measures_by_lot` over 30 days against the raw grouped SQL it stands for;
- what-if: stays replayed per second (the fee function is Python, so this is its own limit).

Usage (SQLite in a temporary file by default; DATABASE_URL=postgres://…/wangge_bench for PostgreSQL,
whose parking tables are emptied first):

    .venv/bin/python bench/bench_parking.py [--events 1000] [--days 30]

Results go to bench/results/parking-<vendor>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    if "DATABASE_URL" not in os.environ:
        scratch = Path(tempfile.mkdtemp(prefix="wangge-bench-parking-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000, help="cars in and out through the services")
    parser.add_argument("--days", type=int, default=30, help="days of demo stays for measures and what-if")
    args = parser.parse_args()
    _setup()

    from django.db import connection, transaction

    from wangge.accounts.models import Role, User
    from wangge.core import clock
    from wangge.parking import demo, selectors, services
    from wangge.parking.fees import LOCAL_TZ
    from wangge.parking.models import ParkingAnomaly, ParkingLot, ParkingSession, Tariff
    from wangge.parking.whatif import replay
    from wangge.registry.models import Area
    from wangge.registry.testing import make_tree, make_user

    ParkingAnomaly.objects.all().delete()
    ParkingSession.objects.all().delete()
    ParkingLot.objects.all().delete()
    Tariff.objects.all().delete()
    city = Area.objects.filter(code="439999").first() or make_tree("439999").city
    user = User.objects.filter(username="bench_parking").first() or make_user(
        role=Role.CITY_ADMIN, areas=[city], username="bench_parking"
    )

    # 1. Gate events through the services.
    seeded = demo.seed(city, days=args.days)
    lot = ParkingLot.objects.filter(area_path__startswith=city.path).order_by("pk").first()
    assert lot is not None
    base = clock.now() - dt.timedelta(days=args.days + 2)
    started = time.perf_counter()
    for i in range(args.events):
        entered = base + dt.timedelta(seconds=i * 7)
        services.parking_entry(lot=lot, plate=f"京A{i:05d}", at=entered, source="gate", event_id=f"b-in-{i}")
        services.parking_exit(
            lot=lot, plate=f"京A{i:05d}", at=entered + dt.timedelta(minutes=95), source="gate", event_id=f"b-out-{i}"
        )
    service_rate = args.events / (time.perf_counter() - started)

    table = ParkingSession._meta.db_table
    placeholder = "%s"
    started = time.perf_counter()
    for i in range(args.events):
        entered = base + dt.timedelta(seconds=i * 7)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (lot_id, plate, entered_at, source, exit_source, entry_event_id, state, "
                f"over_capacity, void_reason, created_at) VALUES ({', '.join([placeholder] * 10)})",
                [lot.pk, f"京B{i:05d}", entered, "gate", "", f"r-in-{i}", "open", False, "", entered],
            )
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET state = 'closed', exited_at = %s, minutes = 95, fee_fen = 500, "
                f"exit_event_id = %s WHERE lot_id = %s AND entry_event_id = %s AND state = 'open'",
                [entered + dt.timedelta(minutes=95), f"r-out-{i}", lot.pk, f"r-in-{i}"],
            )
    raw_rate = args.events / (time.perf_counter() - started)

    # 2. Measures over the period against the raw grouped SQL.
    today = clock.today_local()
    start_day = today - dt.timedelta(days=args.days - 1)
    lo = dt.datetime.combine(start_day, dt.time.min, tzinfo=LOCAL_TZ)
    hi = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)

    def best(fn: object, n: int = 5) -> float:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return min(times)

    measures_s = best(lambda: selectors.measures_by_lot(user=user, start=start_day, end=today))

    def raw_measures() -> None:
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT lot_id, COUNT(*), AVG(minutes), SUM(fee_fen) FROM {table} "
                "WHERE (entered_at >= %s AND entered_at < %s) OR (exited_at >= %s AND exited_at < %s) GROUP BY lot_id",
                [lo, hi, lo, hi],
            )
            cur.fetchall()

    raw_measures_s = best(raw_measures)

    # 3. What-if: a month of one zone's stays replayed under the proposed tariff.
    proposed = Tariff.objects.get(is_active=False)
    started = time.perf_counter()
    result = replay(
        lots=selectors.lot_list(user=user),
        start=start_day,
        end=today,
        proposed=proposed.rules(),
        proposed_label="bench",
    )
    replay_s = time.perf_counter() - started

    vendor = connection.vendor
    out = {
        "vendor": vendor,
        "events": args.events,
        "demo_sessions": seeded.get("sessions", 0),
        "service_pairs_per_s": round(service_rate, 1),
        "raw_pairs_per_s": round(raw_rate, 1),
        "service_over_raw": round(service_rate / raw_rate, 3),
        "measures_ms": round(measures_s * 1000, 2),
        "raw_measures_ms": round(raw_measures_s * 1000, 2),
        "measures_over_raw": round(measures_s / raw_measures_s, 2) if raw_measures_s else None,
        "replayed_stays": result.current.sessions,
        "replay_stays_per_s": round(result.current.sessions / replay_s, 1) if replay_s else None,
    }
    results = RESULTS
    results.mkdir(parents=True, exist_ok=True)
    (results / f"parking-{vendor}.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
