"""Demo data for the director system: 72 public toilets, three directors each, a few weeks of inspections.

`seed(city_area)` is the hook for `seed_demo`; `manage.py seed_facilities` calls it on its own. As in
安吉 (2019): a bureau leader of 城管局 checks each toilet at least twice a month, the town's sanitation
staff (环卫所) at least twice a week, the cleaner daily. Six toilets stand in the city-centre streets
(街道), the rest across the towns. Bureau leaders and sanitation staff have demo logins; cleaners are
named people with a phone, whose daily check the town's sanitation staff enter on their behalf.
Everything goes through the services, and a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_create, user_set_flags
from wangge.core import clock
from wangge.core.phones import demo_mobile
from wangge.facilities import rules, services
from wangge.facilities.models import DirectorLevel, Facility, FacilityType, RulePeriod
from wangge.registry.models import Area, Department, Level

DEMO_PASSWORD = "wangge-demo-2026"  # the same demo password as accounts' demo logins
TOILETS = 72
CENTRE_TOILETS = 6
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
GIVEN = "建国海燕志强红梅建华丽娟国平秀英明辉桂兰玉兰德胜文静春花永红小军晓东金凤伟民淑珍俊杰雪梅"
ROADS = ["人民路", "金沙路", "北正路", "圭斋路", "白沙路", "花园路", "新文路", "沿河路", "健康路", "解放路"]


def _name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(0, len(GIVEN) // 2) * 2 :][:2]
    return rng.choice(SURNAMES) + given


def _user(username: str, hashed: str, **kw: Any) -> User:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    user = user_create(username=username, password=None, **kw)
    # One precomputed hash for every demo login (argon2 takes a noticeable fraction of a second each).
    return user_set_flags(user=user, password_hash=hashed)


def _spread(towns: list[Area], n: int) -> list[Area]:
    """n towns in turn, so that every town gets its share."""
    return [towns[i % len(towns)] for i in range(n)] if towns else []


def _places(city: Area, total: int) -> list[Area]:
    """The grid each toilet stands in: six in the centre streets (街道), the rest across the other towns."""
    towns = list(Area.objects.filter(level=Level.TOWN, path__startswith=city.path).order_by("path"))
    centre = [t for t in towns if t.name.endswith("街道")] or towns[:1]
    others = [t for t in towns if t not in centre] or towns
    chosen = _spread(centre, min(CENTRE_TOILETS, total)) + _spread(others, max(0, total - CENTRE_TOILETS))
    grids_by_town: dict[int, list[Area]] = {}
    for town in towns:
        grids_by_town[town.pk] = list(
            Area.objects.filter(level=Level.GRID, path__startswith=town.path).order_by("path")[:400]
        )
    used: dict[int, int] = {}
    places = []
    for town in chosen:
        grids = grids_by_town.get(town.pk) or [town]
        n = used.get(town.pk, 0)
        used[town.pk] = n + 1
        # Spread a town's toilets over its grids instead of piling them into the first one.
        places.append(grids[(n * 37) % len(grids)])
    return places


def _town_of(area: Area) -> Area:
    return Area.objects.get(path__in=area.ancestor_paths(), level=Level.TOWN)


def _department(city: Area) -> Department:
    found = Department.objects.filter(area=city, name="城管局").first()
    if found is not None:
        return found
    from wangge.registry.services import department_create

    return department_create(code=f"{city.code}-CGJ", name="城管局", city=city, phone="")


@transaction.atomic
def seed_toilets(
    city: Area, *, total: int = TOILETS, seed_value: int = 2019, since: dt.date | None = None
) -> dict[str, int]:
    """The toilets and their three directors (bureau leader, sanitation staff, cleaner), in charge from `since`."""
    prefix = f"GC-{city.code}-"
    if Facility.objects.filter(code__startswith=prefix).exists():
        return {"toilets": Facility.objects.filter(code__startswith=prefix).count(), "directors": 0, "logins": 0}
    rng = random.Random(seed_value)
    toilet = FacilityType.objects.get(code="toilet")
    department = _department(city)
    hashed = make_password(DEMO_PASSWORD)
    start = since or clock.today_local()
    names: set[str] = set()
    leaders = [
        _user(
            f"demo_gc_leader{i}",
            hashed,
            role=Role.DEPARTMENT,
            display_name=f"{_name(rng)}（城管局局领导）",
            departments=[department],
        )
        for i in range(1, 4)
    ]
    staff_by_town: dict[int, User] = {}
    directors = logins = 0
    places = _places(city, total)
    for n, grid in enumerate(places, start=1):
        town = _town_of(grid) if grid.level != Level.TOWN else grid
        if town.pk not in staff_by_town:
            username = f"demo_hw_{town.code}"
            logins += not User.objects.filter(username=username).exists()
            staff_by_town[town.pk] = _user(
                username, hashed, role=Role.TOWN, display_name=f"{_name(rng)}（{town.name}环卫所）", areas=[town]
            )
        lat = (grid.centre_lat or 28.15) + rng.uniform(-0.002, 0.002)
        lng = (grid.centre_lng or 113.63) + rng.uniform(-0.002, 0.002)
        road = rng.choice(ROADS)
        base = f"{grid.name.replace('微网格', '')}{road}" if grid.level == Level.GRID else f"{town.name}{road}"
        name, k = f"{base}公厕", 2
        while name in names:  # a grid with several toilets on one road: 金沙1号人民路2号公厕
            name, k = f"{base}{k}号公厕", k + 1
        names.add(name)
        facility = services.facility_create(
            facility_type=toilet,
            name=name,
            code=f"{prefix}{n:03d}",
            area=grid,
            address=f"{town.name}{road}{rng.randrange(1, 300)}号旁",
            lat=round(lat, 6),
            lng=round(lng, 6),
            department=department,
            open_hours="全天开放" if n <= CENTRE_TOILETS else "06:00-22:00",
        )
        services.director_assign(
            facility=facility,
            level=DirectorLevel.BUREAU_LEADER,
            user=leaders[(n - 1) % len(leaders)],
            rule_count=2,
            rule_period=RulePeriod.MONTH,
            since=start,
        )
        services.director_assign(
            facility=facility,
            level=DirectorLevel.SANITATION_STAFF,
            user=staff_by_town[town.pk],
            rule_count=2,
            rule_period=RulePeriod.WEEK,
            since=start,
        )
        services.director_assign(
            facility=facility,
            level=DirectorLevel.CLEANER,
            name=_name(rng),
            phone=demo_mobile(rng),
            rule_count=1,
            rule_period=RulePeriod.DAY,
            since=start,
        )
        directors += 3
    return {"toilets": len(places), "directors": directors, "logins": logins + len(leaders)}


# Findings a cleaner or inspector writes when an item fails.
FINDINGS = {
    "floor": "地面有积水",
    "odour": "异味明显",
    "handwash": "洗手台水龙头损坏",
    "lighting": "照明灯不亮",
    "supplies": "厕纸用完未补",
    "accessible": "无障碍扶手松动",
    "signage": "指示牌脱落",
    "rules": "管理制度牌缺失",
}


@transaction.atomic  # one transaction: thousands of small ones cost a disk sync each on SQLite
def seed_inspections(city: Area, *, weeks: int = 3, seed_value: int = 2019) -> int:
    """A few weeks of inspections up to yesterday: cleaners daily, staff twice a week, leaders twice a month.

    About one check in twenty misses a day, and a few find a failure, which files a demand as a real
    inspection would (a repeat of an open failure comments on it instead).
    """
    from wangge.facilities.models import FacilityDirector, Inspection

    prefix = f"GC-{city.code}-"
    if weeks <= 0 or Inspection.objects.filter(facility__code__startswith=prefix).exists():
        return 0
    rng = random.Random(seed_value + 1)
    today = clock.today_local()
    first = today - dt.timedelta(days=7 * weeks)
    directors = list(
        FacilityDirector.objects.filter(facility__code__startswith=prefix, is_active=True)
        .select_related("facility__facility_type", "user")
        .order_by("facility__code", "level")
    )
    staff_of_facility = {d.facility_id: d.user for d in directors if d.level == DirectorLevel.SANITATION_STAFF}
    codes = list(FINDINGS)
    done = 0
    for director in directors:
        facility = director.facility
        actor = director.user or staff_of_facility.get(facility.pk)
        if actor is None:
            continue
        days = [first + dt.timedelta(days=i) for i in range((today - first).days)]
        if director.rule_period == RulePeriod.DAY:
            when = [d for d in days if rng.random() > 0.05]
            hour, fail_rate = 7, 0.03
        elif director.rule_period == RulePeriod.WEEK:
            when = [d for d in days if d.weekday() in (1, 4) and rng.random() > 0.1]
            hour, fail_rate = 10, 0.08
        else:
            when = [d for d in days if d.day in (6, 21) and rng.random() > 0.1]
            hour, fail_rate = 15, 0.15
        for day in when:
            failed = {}
            if rng.random() < fail_rate:
                code = rng.choice(codes)
                failed[code] = FINDINGS[code]
            at = rules.local_midnight(day) + dt.timedelta(hours=hour, minutes=rng.randrange(0, 50))
            results = [
                {"code": c.code, "passed": c.code not in failed, "note": failed.get(c.code, "")}
                for c in facility.facility_type.checklist.all()
                if c.is_active
            ]
            services.inspection_record(
                facility=facility,
                actor=actor,
                director=director,
                results=results,
                at=at,
                lat=facility.lat,
                lng=facility.lng,
            )
            done += 1
    return done


def seed(city_area: Area, *, weeks: int = 3) -> dict[str, int]:
    """The hook for seed_demo: 72 public toilets with their directors, then a few weeks of inspections."""
    # The directors took over when the demo's inspections begin, so no earlier period counts as missed.
    counts = seed_toilets(city_area, since=clock.today_local() - dt.timedelta(days=7 * max(weeks, 0)))
    counts["inspections"] = seed_inspections(city_area, weeks=weeks)
    return counts
