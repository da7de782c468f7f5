"""Registry import benchmark: the reference city's workbook against the database's raw bulk-insert rate.

In one run, on one fresh database:
1. the tree of towns and villages is created (32 towns × ~10 villages, as the reference city);
2. a workbook of N households in the county layout is generated (cached under var/bench/), with a
   twin that carries 20 planted errors of mixed kinds;
3. the twin is imported and must be refused with exactly the 20 planted problems named;
4. the workbook is imported (read, check, create 32,000 grids and their leaders, insert and count);
5. the same file is imported again (must change nothing);
6. the raw limit: the households just written are read back, the table emptied, and the very same
   rows inserted again with the driver's executemany (COPY on PostgreSQL) into the same table with
   the same indexes. The budget (docs/architecture.md) is import ≥ 0.5 × raw.

Usage (SQLite in var/bench/import.sqlite3, recreated each run; DATABASE_URL=postgres://…/wangge_bench
for PostgreSQL, whose registry tables are emptied first):

    .venv/bin/python bench/bench_import.py [--households 419200] [--grids 32000]

Results go to bench/results/import-<vendor>.json and a line in bench/results/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench"
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")  # run_all.py sets it per scale

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "建国春花秀英桂兰志强海燕丽华明德永红金凤玉梅国庆小平文军淑珍德华翠兰"
    "家豪子涵雨轩欣怡俊杰思远晓东秋菊冬梅雪梅红霞荣华宏伟振华"
)
TOWN_WORDS = (
    "集里淮川荷花关口北盛永安洞阳沿溪官渡达浒社港古港高坪大瑶金刚文家市张坊"
    "小河澄潭中和官桥镇头普迹柏加龙伏沙市淳口葛家枨冲大围山"
)
VILLAGE_WORDS = "金沙新华石门长兴和平团结红旗胜利光明东风联合双江白沙青山松山枫林桃源柳塘杨家竹园花桥高峰太平永丰"
TAG_WORDS = ["独居老人", "留守儿童", "低保户", "残疾人", "空巢老人"]
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

HEADERS = [
    "乡镇(街道)",
    "村(社区)",
    "党支部(村民小组)",
    "微网格编号",
    "微网格长姓名",
    "微网格长电话",
    "户地址",
    "户主姓名",
    "户主身份证号",
    "联系电话",
    "家庭人口",
    "关爱标签",
]


def _setup(vendor_url: str | None) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if not vendor_url:
        db = BENCH_DIR / "import.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "registry", verbosity=0)
    if vendor_url:
        from django.db import connection

        with connection.cursor() as c:
            c.execute(
                "TRUNCATE registry_household, registry_importjob, accounts_userscope, registry_department, "
                "registry_person, registry_area RESTART IDENTITY CASCADE"
            )


def make_id(n: int) -> str:
    """A valid, unique 18-digit ID for household n (birth date and sequence spread over n)."""
    days, seq = divmod(n, 1000)
    year, rest = 1940 + days // 336, days % 336
    month, day = rest // 28 + 1, rest % 28 + 1
    base = f"430181{year:04d}{month:02d}{day:02d}{seq:03d}"
    total = sum(int(base[i]) * _W[i] for i in range(17))
    return base + "10X98765432"[total % 11]


def build_tree(towns: int, villages_per_town: int) -> list[tuple[str, str]]:
    """City → towns → villages (national codes); returns (town, village) names."""
    from wangge.registry.models import Level
    from wangge.registry.services import area_create

    city = area_create(level=Level.CITY, code="430181", name="浏阳市")
    out = []
    tw = [TOWN_WORDS[i : i + 2] for i in range(0, len(TOWN_WORDS) - 1, 2)]
    vw = [VILLAGE_WORDS[i : i + 2] for i in range(0, len(VILLAGE_WORDS) - 1, 2)]
    for t in range(towns):
        tname = f"{tw[t % len(tw)]}{'镇' if t % 3 else '街道'}" + ("" if t < len(tw) else str(t))
        town = area_create(level=Level.TOWN, code=f"430181{100 + t:03d}", name=tname, parent=city)
        for v in range(villages_per_town):
            vname = f"{vw[(t * 7 + v) % len(vw)]}{'村' if v % 4 else '社区'}" + ("" if v < len(vw) else str(v))
            area_create(level=Level.VILLAGE, code=f"{town.code}{200 + v:03d}", name=vname, parent=town)
            out.append((tname, vname))
    return out


def household_rows(villages: list[tuple[str, str]], households: int, grids: int) -> list[list[Any]]:
    """The workbook's rows: grids spread evenly over villages (5 branches each), 13 or 14 households a grid."""
    rng = random.Random(20260415)
    rows: list[list[Any]] = []
    per_village = [grids // len(villages) + (1 if i < grids % len(villages) else 0) for i in range(len(villages))]
    n = 0
    g_index = 0
    for (town, village), gcount in zip(villages, per_village, strict=True):
        for g in range(gcount):
            branch = f"第{g % 5 + 1}党支部"
            number = g // 5 + 1
            leader = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            lphone = f"13{rng.randrange(5, 10)}{g_index:08d}"
            size = households // grids + (1 if g_index < households % grids else 0)
            for _ in range(size):
                head = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice("华明芳丽军平")
                tags = "、".join(rng.sample(TAG_WORDS, rng.randrange(1, 3))) if rng.random() < 0.12 else ""
                rows.append(
                    [
                        town,
                        village,
                        branch,
                        number,
                        leader,
                        lphone,
                        f"{village}{g % 5 + 1}组{n % 997 + 1}号",
                        head,
                        make_id(n),
                        f"15{rng.randrange(0, 10)}{n:08d}",
                        rng.randrange(1, 7),
                        tags,
                    ]
                )
                n += 1
            g_index += 1
    return rows


def plant_errors(rows: list[list[Any]]) -> tuple[list[list[Any]], list[tuple[int, str]]]:
    """A copy with 20 planted problems of mixed kinds; returns the rows and the expected (Excel row, code)."""
    out = [list(r) for r in rows]
    step = max(1, len(out) // 25)
    kinds: list[tuple[int, str, Any]] = [
        (1, "unknown_village", "不存在村"),
        (0, "unknown_town", "不存在镇"),
        (8, "id_number_float", 4.30181199001011e17),
        (8, "id_number_float", "4.30181E+17"),
        (8, "id_number_float", 4.30181198512013e17),
        (8, "bad_id", make_id(5)[:-1] + ("1" if make_id(5)[-1] != "1" else "2")),
        (9, "bad_phone", "1380013"),
        (9, "bad_phone", "电话不详"),
        (5, "bad_phone", "12345"),
        (10, "bad_members", "三口"),
        (10, "bad_members", 0),
        (10, "bad_members", 99),
        (11, "unknown_tag", "贫困户"),
        (11, "unknown_tag", "独居老人、外来人口"),
        (6, "required", ""),
        (7, "required", ""),
        (3, "bad_grid_number", "一号"),
    ]
    expected: list[tuple[int, str]] = []
    targets = [step * (i + 1) for i in range(len(kinds))]
    for (col, code, value), i in zip(kinds, targets, strict=True):
        if col == 5:
            # A bad leader phone must not also clash with the grid's first row: make it the only row naming one.
            value_row = out[i]
            same_grid = [r for r in out if r[:4] == value_row[:4]]
            for r in same_grid:
                r[4], r[5] = "", ""
            value_row[4] = "赵六"
        out[i][col] = value
        expected.append((i + 2, code))
    # Two duplicates of earlier households (same ID), placed in their own grids.
    for k, src in enumerate((10, 20)):
        dup = list(out[src])
        insert_at = targets[-1] + 50 + k * 50
        out.insert(insert_at, dup)
        expected = [(r + 1 if r > insert_at + 1 else r, c) for r, c in expected]
        expected.append((insert_at + 2, "duplicate"))
    # The 31st household of a grid.
    gi = len(out) - 5
    grid_cells = out[gi][:4]
    in_grid = [i for i, r in enumerate(out) if r[:4] == grid_cells]
    extra = 31 - len(in_grid)
    last = in_grid[-1]
    base_n = 10_000_000
    for k in range(extra):
        r = list(out[last])
        r[6], r[7], r[8], r[9] = f"加户{k}号", f"新户主{k}", make_id(base_n + k), f"186{k:08d}"
        out.insert(last + 1 + k, r)
    expected = [(r + extra if r > last + 2 else r, c) for r, c in expected]
    expected.append((last + 1 + extra + 1, "grid_full"))
    expected.sort()
    assert len(expected) == 20, len(expected)
    return out, expected


def write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍登记")
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.rename(path)


class Timer:
    """Progress callback that remembers when each stage started and ended (wall clock and CPU)."""

    def __init__(self) -> None:
        self.marks: dict[str, list[float]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        m = self.marks.setdefault(stage, [now, now, cpu, cpu])
        m[1], m[3] = now, cpu

    def spans(self) -> dict[str, float]:
        return {k: round(v[1] - v[0], 3) for k, v in self.marks.items()}

    def cpu_spans(self) -> dict[str, float]:
        return {k: round(v[3] - v[2], 3) for k, v in self.marks.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=419_200)
    ap.add_argument(
        "--grids", type=int, default=None, help="default: households / 13.1 (32,000 for the reference city)"
    )
    ap.add_argument("--towns", type=int, default=32)
    ap.add_argument("--villages", type=int, default=10, help="villages per town")
    ap.add_argument("--profile", action="store_true", help="print where the import spends its time (cProfile)")
    args = ap.parse_args()
    grids = args.grids or max(1, round(args.households / 13.1))
    pg_url = os.environ.get("DATABASE_URL") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None
    _setup(pg_url)

    from django.db import connection, transaction

    from wangge.core.masking import encrypt_many
    from wangge.registry.importing import registry_import
    from wangge.registry.importing.services.bulk import _insert
    from wangge.registry.models import Area, Household, Level

    vendor = connection.vendor
    t0 = time.perf_counter()
    villages = build_tree(args.towns, args.villages)
    tree_s = time.perf_counter() - t0
    city = Area.objects.get(level=Level.CITY)

    good = BENCH_DIR / f"import-{args.households}-{grids}.xlsx"
    bad = BENCH_DIR / f"import-{args.households}-{grids}-20errors.xlsx"
    expected_file = BENCH_DIR / f"import-{args.households}-{grids}-20errors.json"
    t0 = time.perf_counter()
    if not (good.exists() and bad.exists() and expected_file.exists()):
        rows = household_rows(villages, args.households, grids)
        write_xlsx(good, rows)
        bad_rows, expected = plant_errors(rows)
        write_xlsx(bad, bad_rows)
        expected_file.write_text(json.dumps(expected))
        del rows, bad_rows
    expected = [tuple(e) for e in json.loads(expected_file.read_text())]
    gen_s = time.perf_counter() - t0
    print(f"tree {tree_s:.1f}s, workbook {gen_s:.1f}s ({good.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)

    # 3. The twin with 20 planted errors: refused, all 20 named, nothing written.
    timer = Timer()
    t0 = time.perf_counter()
    refused = registry_import(path=bad, city=city, progress=timer)
    refused_s = time.perf_counter() - t0
    reported = sorted((p.row, p.code) for p in refused.errors)
    errors_ok = reported == sorted(expected) and not refused.written and Household.objects.count() == 0
    print(f"20 planted errors: {len(reported)} reported, match={errors_ok}, {refused_s:.1f}s", file=sys.stderr)
    if not errors_ok:
        print("expected", sorted(expected), "\nreported", reported, file=sys.stderr)

    # 4. The import.
    timer = Timer()
    load_before = os.getloadavg()[0]
    c0 = time.process_time()
    t0 = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(registry_import, path=good, city=city, progress=timer)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        result = registry_import(path=good, city=city, progress=timer)
    import_s = time.perf_counter() - t0
    import_cpu = time.process_time() - c0
    assert result.written and not result.errors, result.errors[:5]
    stages = timer.spans()
    print(
        f"import {result.created} households in {import_s:.1f}s ({result.created / import_s:,.0f}/s) {stages}",
        file=sys.stderr,
    )

    # 5. Again: nothing changes.
    t0 = time.perf_counter()
    again = registry_import(path=good, city=city)
    again_s = time.perf_counter() - t0
    assert again.created == 0 and again.updated == 0 and again.unchanged == result.created

    # 6. The raw limit: the same rows into the same (emptied) table with the same indexes.
    cols = [
        "grid",
        "area_path",
        "key",
        "address",
        "head_name",
        "head_id_number_enc",
        "head_id_number_hash",
        "phone",
        "members",
        "care_tags",
        "created_at",
        "updated_at",
    ]
    fields = [Household._meta.get_field(c).column for c in cols]
    with connection.cursor() as c:
        c.execute(f"SELECT {', '.join(fields)} FROM registry_household ORDER BY id")
        raw_rows = c.fetchall()
    with transaction.atomic(), connection.cursor() as c:
        # TRUNCATE on PostgreSQL: after a DELETE the raw COPY would pay for 419,200 dead rows in
        # the table and its indexes, which the import never did. SQLite's DELETE without WHERE
        # drops the table's pages in one go (and the raw insert then reuses them: if anything,
        # that flatters the raw side).
        # CASCADE: the members, history and move requests that point at households (all empty here).
        c.execute("TRUNCATE registry_household CASCADE" if vendor == "postgresql" else "DELETE FROM registry_household")
    c0 = time.process_time()
    t0 = time.perf_counter()
    with transaction.atomic():
        _insert(Household, cols, raw_rows)
    raw_s = time.perf_counter() - t0
    raw_cpu = time.process_time() - c0
    load_after = os.getloadavg()[0]
    n = len(raw_rows)

    # What the at-rest encryption of the ID numbers (AES-GCM, a batch at a time as the import does) costs on its own.
    sample = [make_id(i) for i in range(min(n, 100_000))]
    t0 = time.perf_counter()
    encrypt_many(sample)
    encrypt_us = (time.perf_counter() - t0) / len(sample) * 1e6

    raw_rate = n / raw_s
    import_rate = result.created / import_s
    data = {
        "vendor": vendor,
        "households": result.created,
        "grids": Area.objects.filter(level=Level.GRID).count(),
        "towns": args.towns,
        "villages": len(villages),
        "cores": os.cpu_count(),
        "workbook_mb": round(good.stat().st_size / 1e6, 1),
        "raw_insert_s": round(raw_s, 2),
        "raw_insert_per_s": round(raw_rate),
        "import_s": round(import_s, 2),
        "import_per_s": round(import_rate),
        "ratio": round(import_rate / raw_rate, 3),
        "budget_ratio": 0.5,
        "meets_budget": import_rate / raw_rate >= 0.5,
        "import_stages_s": stages,
        "import_stages_cpu_s": timer.cpu_spans(),
        "import_cpu_s": round(import_cpu, 2),
        "raw_insert_cpu_s": round(raw_cpu, 2),
        "load_average_before_after": [round(load_before, 1), round(load_after, 1)],
        "encrypt_us_per_id": round(encrypt_us, 2),
        "encrypt_share_of_import": round(encrypt_us * result.created / 1e6 / import_s, 3),
        "reimport_unchanged_s": round(again_s, 2),
        "planted_errors": len(expected),
        "planted_errors_reported": len(reported),
        "planted_errors_all_named": errors_ok,
        "planted_errors_refused_s": round(refused_s, 2),
        "branches_created": result.branches_created,
        "grids_created": result.grids_created,
        "leaders_set": result.leaders_set,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"import-{vendor}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    from wangge.core import clock

    line = (
        f"- {clock.now().isoformat(timespec='seconds')} import ({vendor}, {result.created:,} households, "
        f"{data['grids']:,} grids, {os.cpu_count()} cores): "
        f"import {import_rate:,.0f} rows/s ({import_s:.1f} s), raw {raw_rate:,.0f} rows/s ({raw_s:.1f} s), "
        f"ratio {data['ratio']} (budget ≥ 0.5: {'met' if data['meets_budget'] else 'MISSED'}); "
        f"20 planted errors refused and named: {errors_ok} ({refused_s:.1f} s); unchanged re-import {again_s:.1f} s; "
        f"load average {load_before:.1f}→{load_after:.1f}"
    )
    readme = RESULTS / "README.md"
    head = "# Benchmark results\n\nOne line per run; the JSON files hold the last run's details.\n\n"
    text = readme.read_text() if readme.exists() else head
    readme.write_text(text.rstrip("\n") + "\n" + line + "\n")
    print(json.dumps(data, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
