"""Demo data: a generated county city shaped like Liuyang (浏阳市), from a few areas to full size.

Everything here is generated from a seeded random generator, never copied: names come from a
surname frequency list and common given-name characters, ID numbers are made up (with a correct
checksum), phones are random mobiles. Only the city and its 32 town and street names are real,
because a demo of Liuyang should read like Liuyang.

Speed matters (the reference city is 419,200 households in 32,000 micro-grids and must load in
minutes on 2 cores), so the tree is built level by level with `bulk_create` and the paths and
cumulative household counts are computed here in Python, not by one service call per row. The
rules the services keep still hold, and the tests prove it: paths follow the tree, no grid holds
more than GRID_HARD_MAX households, counts equal a direct COUNT, and every household key is the one
`registry.services.household_key` gives.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import reset_queries, transaction

from wangge.accounts.management.commands.demo_logins import DEMO_LOGINS, DEMO_PASSWORD
from wangge.accounts.models import ROLE_LEVEL, User
from wangge.accounts.services import user_create, user_set_flags
from wangge.core.masking import encrypt, lookup_hash
from wangge.core.phones import demo_mobile
from wangge.registry.models import LEVEL_DEPTH, Area, Department, Household, Level, Person, tags_to_column
from wangge.registry.services import department_create, household_key, person_update

CITY_CODE = "430181"
CITY_NAME = "浏阳市"
CITY_CENTRE = (28.15, 113.63)  # lat, lng
CITY_SIZE_KM = (80.0, 60.0)  # east-west, north-south

# The 4 streets, 26 towns and 2 townships of Liuyang, in the order their codes are given.
TOWN_NAMES: list[str] = [
    "淮川街道",
    "集里街道",
    "荷花街道",
    "关口街道",
    "大围山镇",
    "达浒镇",
    "沿溪镇",
    "官渡镇",
    "古港镇",
    "永和镇",
    "张坊镇",
    "小河乡",
    "高坪镇",
    "社港镇",
    "龙伏镇",
    "沙市镇",
    "北盛镇",
    "淳口镇",
    "洞阳镇",
    "永安镇",
    "镇头镇",
    "普迹镇",
    "柏加镇",
    "蕉溪镇",
    "枨冲镇",
    "澄潭江镇",
    "文家市镇",
    "中和镇",
    "大瑶镇",
    "金刚镇",
    "官桥镇",
    "杨花乡",
]
assert len(TOWN_NAMES) == 32 and len(set(TOWN_NAMES)) == 32

# Where each town sits on an 8 x 4 lattice (column west→east, row north→south): the four streets
# in the middle, the mountain towns to the north-east and east, roughly as on a map of Liuyang.
TOWN_CELLS: dict[str, tuple[int, int]] = {
    "永安镇": (0, 0), "北盛镇": (1, 0), "淳口镇": (2, 0), "社港镇": (3, 0),
    "龙伏镇": (4, 0), "沙市镇": (5, 0), "官渡镇": (6, 0), "张坊镇": (7, 0),
    "洞阳镇": (0, 1), "蕉溪镇": (1, 1), "集里街道": (2, 1), "关口街道": (3, 1),
    "古港镇": (4, 1), "高坪镇": (5, 1), "达浒镇": (6, 1), "小河乡": (7, 1),
    "镇头镇": (0, 2), "柏加镇": (1, 2), "淮川街道": (2, 2), "荷花街道": (3, 2),
    "永和镇": (4, 2), "沿溪镇": (5, 2), "大围山镇": (6, 2), "杨花乡": (7, 2),
    "普迹镇": (0, 3), "枨冲镇": (1, 3), "官桥镇": (2, 3), "澄潭江镇": (3, 3),
    "中和镇": (4, 3), "文家市镇": (5, 3), "大瑶镇": (6, 3), "金刚镇": (7, 3),
}  # fmt: skip
LATTICE = (8, 4)

DEPARTMENTS: list[tuple[str, str]] = [
    ("供电公司", "0731-83611000"),
    ("住建局", "0731-83612000"),
    ("城管局", "0731-83613000"),
    ("交通运输局", "0731-83614000"),
    ("教育局", "0731-83615000"),
    ("卫健局", "0731-83616000"),
    ("水务局", "0731-83617000"),
    ("自然资源局", "0731-83618000"),
    ("市场监管局", "0731-83619000"),
    ("民政局", "0731-83620000"),
    ("公安局", "0731-83621000"),
    ("生态环境局", "0731-83622000"),
    ("农业农村局", "0731-83623000"),
    ("人社局", "0731-83624000"),
    ("应急管理局", "0731-83625000"),
]

# Surnames with rough national frequencies (per cent), Hunan's common ones (刘, 罗, 彭, 谭, 邓,
# 曾, 唐, 易, 黎) weighted up a little.
SURNAMES: list[tuple[str, float]] = [
    ("王", 6.5), ("李", 7.2), ("张", 6.0), ("刘", 6.8), ("陈", 5.3), ("杨", 3.1), ("黄", 2.6), ("赵", 1.6),
    ("吴", 1.9), ("周", 2.0), ("徐", 1.3), ("孙", 1.0), ("马", 0.9), ("朱", 1.2), ("胡", 1.4), ("郭", 0.9),
    ("何", 1.3), ("高", 1.0), ("林", 1.0), ("罗", 1.9), ("郑", 0.9), ("梁", 0.8), ("谢", 1.0), ("宋", 0.7),
    ("唐", 1.2), ("许", 0.6), ("韩", 0.5), ("冯", 0.5), ("邓", 1.3), ("曹", 0.6), ("彭", 1.3), ("曾", 1.1),
    ("肖", 0.9), ("田", 0.5), ("董", 0.5), ("袁", 0.6), ("潘", 0.5), ("蒋", 0.6), ("蔡", 0.5), ("余", 0.6),
    ("杜", 0.4), ("叶", 0.5), ("程", 0.4), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.3), ("钟", 0.4), ("谭", 0.9), ("廖", 0.6), ("汪", 0.3),
    ("范", 0.3), ("金", 0.3), ("陆", 0.3), ("石", 0.3), ("贺", 0.5), ("易", 0.5), ("黎", 0.4), ("龙", 0.3),
    ("汤", 0.3), ("邹", 0.4), ("熊", 0.4), ("毛", 0.3), ("戴", 0.3), ("夏", 0.3), ("傅", 0.3), ("方", 0.3),
    ("邱", 0.3), ("秦", 0.2), ("江", 0.2), ("尹", 0.3), ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龚", 0.3),
    ("文", 0.3), ("万", 0.2), ("钱", 0.2), ("严", 0.2), ("欧阳", 0.2), ("司马", 0.02),
]  # fmt: skip
_SURNAME_CHARS = [s for s, _ in SURNAMES]
_SURNAME_CUM = list(itertools.accumulate(w for _, w in SURNAMES))

GIVEN_MALE = "建国华明伟军平勇强志文斌春秋海林辉刚峰涛杰波宇浩俊鹏德福贵生荣金友成新民东亮光全立正永长松清云山湘礼兴旺"
GIVEN_FEMALE = "红英兰芳丽娟霞敏静玉秀桂珍凤梅琴燕萍艳莉婷雪丹慧佳欣怡春秋云华玲妹菊香莲爱美"

VILLAGE_FIRST = "金石柏桃枫荷杨龙凤高新东西南北长青白红大小沙马梅竹松泉湖溪田岭山塘花双永太福和宝兴"
VILLAGE_SECOND = "沙柱坪源冲塘桥湾岭田溪山园林坡江洲口丰安乐盛霞峰泉港湖阳城家桂"
CN_NUM = "一二三四五六七八九十"

# Share of households with each care tag (docs/glossary.md: what grid leaders watch).
TAG_RATES: list[tuple[str, float]] = [
    ("elderly_alone", 0.03),
    ("left_behind_child", 0.02),
    ("low_income", 0.02),
    ("disabled", 0.015),
]
MEMBER_WEIGHTS = [(1, 0.08), (2, 0.22), (3, 0.27), (4, 0.22), (5, 0.12), (6, 0.06), (7, 0.03)]
ID_SHARE = 0.4  # heads whose ID number the registry holds (the rest were never collected)
PHONE_SHARE = 0.92
REFERENCE_DAY = dt.date(2026, 1, 1)  # ages are counted from here, never from the clock: deterministic


@dataclass(frozen=True)
class DemoPlan:
    """How big a demo city is; a fixed `*_per_*` makes every unit the same size (the small demo)."""

    towns: int
    villages: int
    grids: int
    households: int
    branches_per_village: int | None = None
    grids_per_branch: int | None = None
    households_per_grid: int | None = None


PLANS: dict[str, DemoPlan] = {
    "small": DemoPlan(
        towns=2,
        villages=4,
        grids=24,
        households=288,
        branches_per_village=2,
        grids_per_branch=3,
        households_per_grid=12,
    ),
    "liuyang": DemoPlan(towns=32, villages=325, grids=32_000, households=419_200),
}


@dataclass
class DemoResult:
    """What a seed run built, for the command's summary and the bench."""

    counts: dict[str, int] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)


# --- small pure helpers -----------------------------------------------------------------------


def split_total(total: int, parts: int, rng: random.Random, *, jitter: float, minimum: int = 1) -> list[int]:
    """Split `total` into `parts` positive integers around the mean (largest remainder), summing exactly."""
    if parts <= 0:
        return []
    if total < parts * minimum:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    weights = [1.0 + rng.uniform(-jitter, jitter) for _ in range(parts)]
    spare = total - parts * minimum
    scale = spare / sum(weights)
    raw = [w * scale for w in weights]
    out = [minimum + int(r) for r in raw]
    short = total - sum(out)
    order = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[:short]:
        out[i] += 1
    return out


def household_sizes(n_grids: int, total: int, rng: random.Random) -> list[int]:
    """Households per grid: mostly the advised 10-15, a few outside, none over the hard limit."""
    hard = settings.GRID_HARD_MAX
    lo, hi = settings.GRID_ADVISED_MIN, settings.GRID_ADVISED_MAX
    if total > n_grids * hard:
        raise ValueError(f"{total} households do not fit in {n_grids} grids of at most {hard}")
    sizes = []
    for _ in range(n_grids):
        r = rng.random()
        if r < 0.03:
            sizes.append(rng.randint(4, lo - 1))  # a small hamlet or a half-empty block
        elif r < 0.05:
            sizes.append(rng.randint(hi + 1, 24))  # a grid that should be split
        else:
            sizes.append(rng.choices(range(lo, hi + 1), weights=(8, 12, 17, 22, 22, 19))[0])
    # Nudge grids inside the advised band (then, if need be, any grid) until the sum is exact.
    diff = total - sum(sizes)
    step = 1 if diff > 0 else -1
    for band_lo, band_hi in ((lo, hi), (1, hard)):
        candidates = list(range(n_grids))
        rng.shuffle(candidates)
        while diff:
            moved = False
            for i in candidates:
                if not diff:
                    break
                s = sizes[i] + step
                if band_lo <= s <= band_hi:
                    sizes[i] = s
                    diff -= step
                    moved = True
            if not moved:
                break
    if diff:
        raise ValueError("could not place every household")
    return sizes


def id_number(rng: random.Random, *, region: str = CITY_CODE, min_age: int = 22, max_age: int = 88) -> str:
    """A made-up 18-digit ID number with a valid checksum (GB 11643)."""
    days = rng.randint(min_age * 365, max_age * 365)
    born = REFERENCE_DAY - dt.timedelta(days=days)
    body = f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(body[i]) * weights[i] for i in range(17))
    return body + "10X98765432"[total % 11]


def unique_id_number(rng: random.Random, used: set[str], **kw: Any) -> str:
    """An ID number not handed out before in this demo (two heads never share one)."""
    while True:
        value = id_number(rng, **kw)
        if value not in used:
            used.add(value)
            return value


def person_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAME_CHARS, cum_weights=_SURNAME_CUM)[0]
    pool = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
    if rng.random() < 0.72:
        return surname + rng.choice(pool) + rng.choice(pool)
    return surname + rng.choice(pool)


def village_bases(n: int, rng: random.Random) -> list[str]:
    """`n` distinct two-character place names (金沙, 石柱, 枫林 …)."""
    combos = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND if a != b]
    if n > len(combos):
        raise ValueError("too many villages for the name generator")
    return rng.sample(combos, n)


def cn_ordinal(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")


# --- geometry ---------------------------------------------------------------------------------

Rect = tuple[float, float, float, float]  # west, south, east, north (lng, lat)


def _r(x: float) -> float:
    return round(x, 6)


def tile(rect: Rect, n: int) -> list[Rect]:
    """Cut a rectangle into `n` near-square rectangles that share their borders exactly.

    Rows run north to south, cells west to east (the way grids are numbered). Each edge is
    computed once and rounded once, so neighbours share the very same coordinate and touch
    without overlapping or leaving a gap.
    """
    w, s, e, nn = rect
    width, height = e - w, nn - s
    rows = max(1, min(n, round(math.sqrt(n * height / width)) if width > 0 else n))
    per_row = [n // rows + (1 if i < n % rows else 0) for i in range(rows)]
    row_edges = [_r(nn - height * i / rows) for i in range(rows + 1)]
    row_edges[0], row_edges[-1] = nn, s
    out: list[Rect] = []
    for row, cols in enumerate(per_row):
        col_edges = [_r(w + width * j / cols) for j in range(cols + 1)]
        col_edges[0], col_edges[-1] = w, e
        top, bottom = row_edges[row], row_edges[row + 1]
        out.extend((col_edges[j], bottom, col_edges[j + 1], top) for j in range(cols))
    return out


def polygon(rect: Rect) -> dict[str, Any]:
    """GeoJSON polygon, exterior ring counter-clockwise (RFC 7946)."""
    w, s, e, n = rect
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def centre(rect: Rect) -> tuple[float, float]:
    w, s, e, n = rect
    return _r((s + n) / 2), _r((w + e) / 2)


def city_rect() -> Rect:
    lat, lng = CITY_CENTRE
    dx_km, dy_km = CITY_SIZE_KM
    dlat = dy_km / 110.9 / 2
    dlng = dx_km / (111.32 * math.cos(math.radians(lat))) / 2
    return (_r(lng - dlng), _r(lat - dlat), _r(lng + dlng), _r(lat + dlat))


def town_rects(names: list[str]) -> dict[str, Rect]:
    """Each town's cell on the 8 x 4 lattice; a smaller demo uses a lattice of its own size."""
    w, s, e, n = city_rect()
    if len(names) == len(TOWN_CELLS):
        cols, rows = LATTICE
        cells = {name: TOWN_CELLS[name] for name in names}
    else:
        cols = max(1, math.ceil(math.sqrt(len(names) * 4 / 3)))
        rows = math.ceil(len(names) / cols)
        cells = {name: (i % cols, i // cols) for i, name in enumerate(names)}
    xs = [_r(w + (e - w) * i / cols) for i in range(cols + 1)]
    ys = [_r(n - (n - s) * j / rows) for j in range(rows + 1)]
    return {name: (xs[c], ys[r + 1], xs[c + 1], ys[r]) for name, (c, r) in cells.items()}


# --- the builder ------------------------------------------------------------------------------


def _area(level: str, code: str, name: str, parent: Area | None, rect: Rect, **extra: Any) -> Area:
    lat, lng = centre(rect)
    return Area(
        level=level,
        code=code,
        name=name,
        parent=parent,
        path=(parent.path if parent else "") + code + "/",
        depth=LEVEL_DEPTH[level],
        boundary=polygon(rect),
        centre_lat=lat,
        centre_lng=lng,
        **extra,
    )


@transaction.atomic
def build_demo(
    plan: DemoPlan,
    *,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
    batch: int = 1000,
) -> DemoResult:
    """Build one demo city in one transaction (all or nothing), then its demo users."""
    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    if plan.towns > len(TOWN_NAMES):
        raise ValueError(f"at most {len(TOWN_NAMES)} towns")

    # 1. Shape: how many villages, branches, grids and households go where (pure arithmetic).
    town_names = TOWN_NAMES[: plan.towns]
    if plan.branches_per_village and plan.villages % plan.towns == 0:
        villages_per_town = [plan.villages // plan.towns] * plan.towns
    else:
        villages_per_town = split_total(plan.villages, plan.towns, rng, jitter=0.25)
    if plan.branches_per_village and plan.grids_per_branch:
        grids_per_village = [plan.branches_per_village * plan.grids_per_branch] * plan.villages
    else:
        grids_per_village = split_total(plan.grids, plan.villages, rng, jitter=0.4, minimum=2)
    if sum(grids_per_village) != plan.grids:
        raise ValueError("the plan's grid count does not match its per-branch shape")
    if plan.households_per_grid:
        sizes = [plan.households_per_grid] * plan.grids
    else:
        sizes = household_sizes(plan.grids, plan.households, rng)
    if sum(sizes) != plan.households:
        raise ValueError("the plan's household count does not match its per-grid shape")
    bases = village_bases(plan.villages, rng)
    used_ids: set[str] = set()

    # 2. The tree above the grids, in memory, with codes, paths, shapes and summed counts.
    say("区域树 area tree")
    city = _area(Level.CITY, CITY_CODE, CITY_NAME, None, city_rect(), household_count=plan.households)
    rects = town_rects(town_names)
    streets = [n for n in town_names if n.endswith("街道")]
    townships = [n for n in town_names if n.endswith("乡")]
    others = [n for n in town_names if n not in streets and n not in townships]
    towns: list[Area] = []
    for name in town_names:
        # Streets take 001…, towns 101…, townships 201…, as national division codes do.
        if name in streets:
            number = streets.index(name) + 1
        elif name in townships:
            number = 200 + townships.index(name) + 1
        else:
            number = 100 + others.index(name) + 1
        towns.append(_area(Level.TOWN, f"{CITY_CODE}{number:03d}", name, city, rects[name], household_count=0))

    villages: list[Area] = []
    for t_index, (town, n_villages) in enumerate(zip(towns, villages_per_town, strict=True)):
        # A street is mostly communities (社区); a town has one or two at its seat, then villages (村).
        if town.name.endswith("街道"):
            n_communities = max(1, round(n_villages * 0.8))
        else:
            n_communities = min(n_villages, 1 + t_index % 2)
        cells = tile(rects[town.name], n_villages)
        for k in range(n_villages):
            base = bases[len(villages)]
            if k < n_communities:
                code, name = f"{town.code}{k + 1:03d}", base + "社区"
            else:
                code, name = f"{town.code}{200 + k - n_communities + 1:03d}", base + "村"
            villages.append(_area(Level.VILLAGE, code, name, town, cells[k], household_count=0))

    branches: list[Area] = []
    grid_plan: list[GridPlan] = []
    sizes_left = iter(sizes)
    for village, n_grids in zip(villages, grids_per_village, strict=True):
        n_branches = plan.branches_per_village or min(rng.randint(2, 5), n_grids)
        if plan.grids_per_branch:
            per_branch = [plan.grids_per_branch] * n_branches
        else:
            per_branch = split_total(n_grids, n_branches, rng, jitter=0.3)
        base = village.name.removesuffix("社区").removesuffix("村")
        in_village = 0
        for b, b_rect in enumerate(tile(_rect_of(village), n_branches)):
            branch = _area(
                Level.BRANCH,
                f"{village.code}{b + 1:02d}",
                f"{base}第{cn_ordinal(b + 1)}党支部",
                village,
                b_rect,
                household_count=0,
            )
            branches.append(branch)
            for g, g_rect in enumerate(tile(b_rect, per_branch[b])):
                in_village += 1
                size = next(sizes_left)
                grid_plan.append(GridPlan(branch, g + 1, in_village, g_rect, size))
                for a in (branch, village, village.parent):
                    a.household_count += size  # type: ignore[union-attr]

    # 3. Write the tree above the grids (bulk_create returns the keys the children need).
    city.save()
    Area.objects.bulk_create(towns)
    Area.objects.bulk_create(villages, batch_size=batch)
    Area.objects.bulk_create(branches, batch_size=batch)
    say(f"  {len(towns)} towns, {len(villages)} villages, {len(branches)} branches")

    # 4. Grid leaders (party members, one per grid), the grids, then their households.
    done = 0
    for start in range(0, len(grid_plan), batch):
        chunk = grid_plan[start : start + batch]
        leaders = [_leader(p.branch, rng, used_ids) for p in chunk]
        Person.objects.bulk_create(leaders, batch_size=batch)
        grids = [
            _area(
                Level.GRID,
                f"{p.branch.code}{p.number:03d}",
                f"{p.branch.name.split('第')[0]}{p.in_village}号微网格",
                p.branch,
                p.rect,
                number=p.number,
                leader=leader,
                household_count=p.size,
            )
            for p, leader in zip(chunk, leaders, strict=True)
        ]
        Area.objects.bulk_create(grids, batch_size=batch)
        _households_for(grids, [p.in_village for p in chunk], rng, used_ids, batch=batch)
        done += len(grids)
        say(f"  {done}/{len(grid_plan)} grids")
        # With DEBUG on, Django keeps every SQL text it ran; a bulk insert's is large. Let it go.
        reset_queries()

    # 5. Departments and demo users.
    for i, (name, phone) in enumerate(DEPARTMENTS, start=1):
        department_create(code=f"{CITY_CODE}-D{i:02d}", name=name, city=city, phone=phone)
    users = create_demo_users(city=city)
    counts = {
        "towns": len(towns),
        "villages": len(villages),
        "branches": len(branches),
        "grids": done,
        "households": plan.households,
        "people": done,
        "departments": len(DEPARTMENTS),
    }
    return DemoResult(counts=counts, users=users)


@dataclass(frozen=True)
class GridPlan:
    branch: Area
    number: int  # in its branch
    in_village: int  # numbered through the village: the name and the address group (组)
    rect: Rect
    size: int


def _rect_of(area: Area) -> Rect:
    assert area.boundary is not None  # the builder gives every area its shape
    ring = area.boundary["coordinates"][0]
    return (ring[0][0], ring[0][1], ring[2][0], ring[2][1])


def _leader(branch: Area, rng: random.Random, used_ids: set[str]) -> Person:
    """A grid leader is a party member of the grid's own branch."""
    ident = unique_id_number(rng, used_ids, min_age=28, max_age=68)
    return Person(
        name=person_name(rng),
        phone=demo_mobile(rng),
        id_number_enc=encrypt(ident),
        id_number_hash=lookup_hash(ident),
        is_party_member=True,
        party_joined_on=REFERENCE_DAY - dt.timedelta(days=rng.randint(3 * 365, 40 * 365)),
        branch=branch,
        area_path=branch.path,
    )


_MEMBERS, _MEMBER_W = zip(*MEMBER_WEIGHTS, strict=True)


def _households_for(
    grids: list[Area], groups: list[int], rng: random.Random, used_ids: set[str], *, batch: int
) -> None:
    """Households of a batch of grids, keyed exactly as the import and the services key them."""
    rows: list[Household] = []
    for grid, group in zip(grids, groups, strict=True):
        village = grid.parent.parent  # type: ignore[union-attr]
        town = village.parent  # type: ignore[union-attr]
        prefix = f"{town.name}{village.name}{group}组"  # type: ignore[union-attr]
        for i in range(grid.household_count):
            head = person_name(rng)
            address = f"{prefix}{i * 2 + 1}号"
            ident = unique_id_number(rng, used_ids) if rng.random() < ID_SHARE else ""
            id_hash = lookup_hash(ident)
            members = rng.choices(_MEMBERS, weights=_MEMBER_W)[0]
            tags = [tag for tag, rate in TAG_RATES if rng.random() < rate]
            if "elderly_alone" in tags:
                members = 1  # living alone, so no child lives there either
                tags = [t for t in tags if t != "left_behind_child"]
            elif "left_behind_child" in tags and members < 2:
                members = 2  # a grandparent and the child
            rows.append(
                Household(
                    grid=grid,
                    area_path=grid.path,
                    key=household_key(
                        village_code=village.code,  # type: ignore[union-attr]
                        address=address,
                        head_name=head,
                        id_hash=id_hash,
                    ),
                    address=address,
                    head_name=head,
                    head_id_number_enc=encrypt(ident),
                    head_id_number_hash=id_hash,
                    phone=demo_mobile(rng) if rng.random() < PHONE_SHARE else "",
                    members=members,
                    care_tags=tags_to_column(tags),
                )
            )
        if len(rows) >= batch:
            Household.objects.bulk_create(rows, batch_size=batch)
            rows = []
    if rows:
        Household.objects.bulk_create(rows, batch_size=batch)


# --- demo users -------------------------------------------------------------------------------


def create_demo_users(*, city: Area) -> list[str]:
    """One demo login of every role, all inside the first town's first grid chain, plus `admin`."""
    grid = (
        Area.objects.filter(level=Level.GRID, path__startswith=city.path)
        .select_related("leader")
        .order_by("path")
        .first()
    )
    if grid is None:
        raise ValueError("the demo city has no grid")
    parts = grid.ancestor_paths()
    chain = {a.level: a for a in Area.objects.filter(path__in=parts)}
    department = Department.objects.get(code=f"{CITY_CODE}-D01")
    created: list[str] = []
    hashed = make_password(DEMO_PASSWORD)
    for login in DEMO_LOGINS:
        if User.objects.filter(username=login.username).exists():
            continue  # a previous demo (or a real admin) already owns the name: leave it alone
        scope_level = ROLE_LEVEL.get(login.role)
        display = login.display_name or (grid.leader.name + "（微网格长）" if grid.leader else "微网格长")
        user = user_create(
            username=login.username,
            password=None,  # set below: one argon2 hash for all (each takes a noticeable fraction of a second)
            role=login.role,
            display_name=display,
            areas=[chain[scope_level]] if scope_level else [],
            departments=[department] if login.role == "department" else [],
        )
        user_set_flags(
            user=user, password_hash=hashed, is_staff=login.staff or login.superuser, is_superuser=login.superuser
        )
        if login.role == "grid_leader" and grid.leader is not None:
            person_update(person=grid.leader, user=user)
        created.append(login.username)
    return created
