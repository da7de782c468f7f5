"""Demo parking: tiered tariffs, a few lots in the demo city's towns and a month of plausible stays.

`seed(city_area)` is what the demo seed calls (and `manage.py seed_parking`). Stays are simulated
lot by lot with a seeded random generator: arrivals follow a day's rhythm (morning and evening
peaks, quiet nights), stay lengths are log-normal around what each kind of lot sees (on-street
short, multi-storey long, a few overnight), and a car that finds the lot full drives on. Each stay
is charged by the same `fee_for` as at the gate. Rows are written with bulk_create for speed: the
rules the services keep (one open stay per plate and lot, exit after entry, fee from the tariff)
hold by construction and are checked by the demo's test.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from typing import Any

from django.db import transaction

from wangge.core import clock
from wangge.parking.fees import LOCAL_TZ, PeakWindow, Step, fee_for
from wangge.parking.models import (
    AnomalyKind,
    LotKind,
    ParkingAnomaly,
    ParkingLot,
    ParkingSession,
    SessionState,
    Source,
    Tariff,
    Zone,
)
from wangge.parking.services import lot_create, rules_from, tariff_save
from wangge.registry.models import Area, Department, Level

T = dt.time

TARIFFS: list[dict[str, Any]] = [
    {
        "name": "一类区域（核心区）路内及公共停车",
        "free_minutes": 15,
        "steps": [Step(0, 60, 400, 30), Step(60, 180, 600, 60), Step(180, None, 1000, 60)],
        "day_cap_fen": 4000,
        "peak_windows": [PeakWindow(T(7, 30), T(9, 30)), PeakWindow(T(17, 0), T(19, 0))],
        "peak_multiplier_pct": 150,
        "night": (T(20, 0), T(7, 0), 100),
    },
    {
        "name": "二类区域（高峰区）",
        "free_minutes": 15,
        "steps": [Step(0, 60, 200, 30), Step(60, 180, 300, 60), Step(180, None, 500, 60)],
        "day_cap_fen": 2000,
        "peak_windows": [PeakWindow(T(7, 30), T(9, 30)), PeakWindow(T(17, 0), T(19, 0))],
        "peak_steps": [Step(0, 60, 300, 30), Step(60, None, 600, 60)],
        "night": (T(20, 0), T(7, 0), 100),
    },
    {
        "name": "三类区域（普通区）",
        "free_minutes": 30,
        "steps": [Step(0, 120, 200, 60), Step(120, None, 300, 60)],
        "day_cap_fen": 1000,
        "night": (T(20, 0), T(7, 0), 0),
    },
    {
        "name": "二类区域拟调整方案（征求意见稿）",
        "free_minutes": 15,
        "steps": [Step(0, 60, 200, 30), Step(60, 120, 400, 60), Step(120, None, 800, 60)],
        "day_cap_fen": 3000,
        "peak_windows": [PeakWindow(T(7, 30), T(9, 30)), PeakWindow(T(17, 0), T(19, 0))],
        "peak_multiplier_pct": 150,
        "night": (T(20, 0), T(7, 0), 100),
        "is_active": False,
        "notes": "演示：提高 2 小时以上停放收费，促进泊位周转",
    },
]

# (name, kind, zone, spaces, tariff index, in the town (0) or its first village (1), operator,
#  daily stays per space, median stay in minutes, share staying overnight)
LOTS: list[list[tuple[str, str, str, int, int, int, str, float, float, float]]] = [
    [
        ("人民中路路内泊位", LotKind.ON_STREET, Zone.CORE, 40, 0, 0, "城管局", 6.0, 45, 0.01),
        ("浏阳河广场地下停车场", LotKind.MULTI_STOREY, Zone.CORE, 200, 0, 0, "交通运输局", 1.4, 150, 0.06),
        ("集贸市场停车场", LotKind.SURFACE, Zone.PEAK, 60, 1, 1, "城管局", 3.5, 70, 0.02),
    ],
    [
        ("人民医院停车场", LotKind.SURFACE, Zone.PEAK, 120, 1, 0, "城管局", 3.0, 95, 0.03),
        ("金沙北路路内泊位", LotKind.ON_STREET, Zone.ORDINARY, 30, 2, 1, "城管局", 4.0, 55, 0.02),
        ("体育馆立体停车库", LotKind.MULTI_STOREY, Zone.ORDINARY, 150, 2, 0, "交通运输局", 1.2, 180, 0.08),
    ],
]

# Relative arrivals by hour of day: a morning peak, a long day, an evening peak, quiet nights.
HOURLY = [
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.3,
    0.8,
    2.4,
    4.0,
    4.0,
    3.5,
    3.0,
    2.8,
    3.0,
    3.2,
    3.4,
    3.5,
    3.8,
    3.2,
    2.5,
    2.0,
    1.5,
    1.0,
    0.5,
]
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _plate(rng: random.Random) -> str:
    city = rng.choice("AAAAAAAAAFFKNM")  # mostly Changsha (湘A); Changde, Yueyang, Loudi and others visit
    if rng.random() < 0.2:
        return f"湘{city}{rng.choice('DF')}{rng.randint(0, 99999):05d}"
    tail = "".join(rng.choice(LETTERS + "0123456789" * 3) for _ in range(4))
    return f"湘{city}{tail}{rng.randint(0, 9)}"


def _tariffs() -> list[Tariff]:
    out = []
    valid = clock.today_local().replace(day=1) - dt.timedelta(days=90)
    for spec in TARIFFS:
        existing = Tariff.objects.filter(name=spec["name"]).first()
        if existing is not None:
            out.append(existing)
            continue
        night = spec.get("night") or (None, None, None)
        rules = rules_from(
            steps=spec["steps"],
            free_minutes=spec["free_minutes"],
            day_cap_fen=spec.get("day_cap_fen"),
            peak_windows=spec.get("peak_windows"),
            peak_multiplier_pct=spec.get("peak_multiplier_pct", 100),
            peak_steps=spec.get("peak_steps"),
            night_start=night[0],
            night_end=night[1],
            night_fen_per_hour=night[2],
            name=spec["name"],
        )
        out.append(
            tariff_save(
                rules=rules,
                valid_from=valid,
                is_active=spec.get("is_active", True),
                notes=spec.get("notes", ""),
            )
        )
    return out


def _simulate(
    lot: ParkingLot,
    *,
    rng: random.Random,
    start: dt.datetime,
    now: dt.datetime,
    per_space: float,
    median: float,
    overnight: float,
    pool: list[str],
) -> list[ParkingSession]:
    rules = lot.tariff.rules()
    parked: list[tuple[dt.datetime, str]] = []  # (leaves at, plate): a heap
    present: set[str] = set()
    out: list[ParkingSession] = []
    source = Source.WARDEN if lot.kind == LotKind.ON_STREET else Source.GATE
    total_weight = sum(HOURLY)
    day = start
    n = 0
    while day < now:
        local = day.astimezone(LOCAL_TZ)
        factor = rng.uniform(0.85, 1.15) * (0.8 if local.weekday() >= 5 and lot.zone == Zone.CORE else 1.0)
        arrivals: list[dt.datetime] = []
        for hour, weight in enumerate(HOURLY):
            expected = per_space * lot.capacity * factor * weight / total_weight
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(count):
                arrivals.append(day + dt.timedelta(hours=hour, seconds=rng.randint(0, 3599)))
        for at in sorted(arrivals):
            if at >= now:
                break
            while parked and parked[0][0] <= at:
                _, gone = heapq.heappop(parked)
                present.discard(gone)
            if len(parked) >= lot.capacity and rng.random() < 0.97:
                continue  # full: the driver goes elsewhere (now and then one squeezes in, flagged)
            plate = rng.choice(pool) if rng.random() < 0.35 else _plate(rng)
            while plate in present:
                plate = _plate(rng)
            if rng.random() < overnight:
                minutes = rng.uniform(600, 900)
            else:
                minutes = min(rng.lognormvariate(math.log(median), 0.8), 16 * 60)
            leaves = at + dt.timedelta(minutes=max(3.0, minutes))
            n += 1
            session = ParkingSession(
                lot=lot,
                plate=plate,
                entered_at=at,
                source=source,
                entry_event_id=f"demo-{lot.pk}-{n}",
                over_capacity=len(parked) >= lot.capacity,
            )
            if leaves <= now:
                breakdown = fee_for(rules, at, leaves)
                session.exited_at = leaves
                session.exit_source = source
                session.exit_event_id = f"demo-{lot.pk}-{n}-out"
                session.state = SessionState.CLOSED
                session.minutes = breakdown.minutes
                session.fee_fen = breakdown.total_fen
                session.breakdown = breakdown.as_dict()
            else:
                session.state = SessionState.OPEN
            out.append(session)
            heapq.heappush(parked, (leaves, plate))
            present.add(plate)
        day += dt.timedelta(days=1)
    return out


@transaction.atomic
def seed(city_area: Area, *, days: int = 30, seed_value: int = 2026, towns: int = 2) -> dict[str, int]:
    """Tariffs, lots in the city's first towns and `days` days of stays up to now; skipped if the city has lots."""
    if ParkingLot.objects.filter(area_path__startswith=city_area.path).exists():
        return {"lots": 0, "sessions": 0, "skipped": 1}
    rng = random.Random(seed_value)
    tariffs = _tariffs()
    town_rows = list(Area.objects.filter(level=Level.TOWN, path__startswith=city_area.path).order_by("path")[:towns])
    if not town_rows:
        raise ValueError("the city has no towns: run seed_demo first")
    departments = {d.name: d for d in Department.objects.filter(area_path__startswith=city_area.path)}
    now = clock.now()
    today = now.astimezone(LOCAL_TZ).date()
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min, tzinfo=LOCAL_TZ)
    pool = [_plate(rng) for _ in range(400)]  # regulars: the same cars come back
    lots = 0
    sessions = 0
    for town, specs in zip(town_rows, LOTS, strict=False):
        village = Area.objects.filter(parent=town, level=Level.VILLAGE).order_by("path").first()
        for name, kind, zone, spaces, t_index, in_village, operator, per_space, median, overnight in specs:
            area = village if in_village and village is not None else town
            lat = (area.centre_lat or 28.15) + rng.uniform(-0.004, 0.004)
            lng = (area.centre_lng or 113.63) + rng.uniform(-0.004, 0.004)
            lot = lot_create(
                name=name,
                kind=kind,
                capacity=spaces,
                area=area,
                tariff=tariffs[t_index],
                zone=zone,
                address=f"{town.name}{name.replace('路内泊位', '').replace('停车场', '').replace('立体停车库', '')}",
                lat=round(lat, 6),
                lng=round(lng, 6),
                operator=departments.get(operator),
            )
            lots += 1
            rows = _simulate(
                lot, rng=rng, start=start, now=now, per_space=per_space, median=median, overnight=overnight, pool=pool
            )
            ParkingSession.objects.bulk_create(rows, batch_size=2000)
            sessions += len(rows)
            # A gate now and then reads a plate on the way out that it missed on the way in.
            for k in range(2 if kind != LotKind.ON_STREET else 0):
                ParkingAnomaly.objects.create(
                    lot=lot,
                    kind=AnomalyKind.EXIT_WITHOUT_ENTRY,
                    plate=_plate(rng),
                    at=now - dt.timedelta(days=rng.randint(1, max(1, days - 1)), minutes=rng.randint(0, 600)),
                    source=Source.GATE,
                    event_id=f"demo-anomaly-{lot.pk}-{k}",
                    message="出场但无入场记录（演示）",
                )
    return {"tariffs": len(tariffs), "lots": lots, "sessions": sessions}
