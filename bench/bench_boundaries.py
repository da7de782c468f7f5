"""Boundaries in bulk: the reference city's 32,000 grids (with its villages and towns) from one file.

In one run, on one fresh database:
1. the demo tree of the reference city is built (32 towns, 325 villages, 32,000 grids; one household
   per grid, since households do not matter here) and its boundaries are exported to one GeoJSON
   file (towns, villages and grids, WGS-84) and one zipped shapefile of the grids (CGCS2000 `.prj`,
   GBK attribute text with its `.cpg`), cached under var/bench/;
2. every boundary is cleared, then `manage.py import_boundaries` (a child process, as an operator runs
   it) imports the GeoJSON: read, check (overlaps, containment, gaps), write; then again (the re-import
   replaces); then the shapefile;
3. the raw limit: the very same UPDATE rows through the driver's executemany in one transaction;
4. routing: a WeChat (GCJ-02) point for a spot 60 m inside a grid's east border is looked up as
   GCJ-02 (must give that grid) and, for contrast, as if it were WGS-84 (gives a neighbour).

    .venv/bin/python bench/bench_boundaries.py [--grids 32000 --towns 32 --villages 325]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangge_bench_bounds .venv/bin/python bench/bench_boundaries.py

Results go to bench/results/boundaries-<vendor>.json.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench"
RESULTS = Path(os.environ.get("WANGGE_BENCH_RESULTS") or ROOT / "bench" / "results")
CGCS2000_PRJ = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
)


def fresh_database(url: str) -> tuple[str, str]:
    if not url or url.startswith("sqlite"):
        path = BENCH_DIR / "boundaries.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return "sqlite", f"sqlite:///{path}"
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit("give the bench a database of its own, e.g. .../wangge_bench_bounds")
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return "postgresql", url


def manage(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def export_files(areas: list[tuple[str, str, str, Any]]) -> tuple[Path, Path]:
    """The GeoJSON (all levels) and the zipped GBK shapefile (grids) of the tree just built."""
    import shapefile

    geojson = BENCH_DIR / "boundaries.geojson"
    features = [
        {"type": "Feature", "properties": {"code": code, "name": name, "level": level}, "geometry": boundary}
        for code, name, level, boundary in areas
        if level in ("town", "village", "grid")
    ]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding="gbk") as writer:
        writer.field("CODE", "C", size=32)
        writer.field("NAME", "C", size=60)
        for code, name, level, boundary in areas:
            if level == "grid":
                # Shapefile outer rings run clockwise; GeoJSON's (and the demo's) counter-clockwise.
                writer.poly([list(reversed(ring)) for ring in boundary["coordinates"]])
                writer.record(code, name)
    archive = BENCH_DIR / "grids-gbk.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("grids.shp", shp.getvalue())
        out.writestr("grids.shx", shx.getvalue())
        out.writestr("grids.dbf", dbf.getvalue())
        out.writestr("grids.prj", CGCS2000_PRJ)
        out.writestr("grids.cpg", "GBK")
    return geojson, archive


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", type=int, default=32_000)
    parser.add_argument("--towns", type=int, default=32)
    parser.add_argument("--villages", type=int, default=325)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    label, url = fresh_database(os.environ.get("DATABASE_URL", ""))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "WANGGE_PUBLIC_BASE_URL": "https://bench.invalid",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    print(f"[{label}] migrating…", flush=True)
    manage(env, "migrate", "--no-input", "-v", "0")

    import django

    django.setup()
    from django.db import connection, transaction

    from wangge.core import geodesy
    from wangge.demands import routing
    from wangge.registry.demo.plans import DemoPlan
    from wangge.registry.demo.tree import build_demo
    from wangge.registry.models import Area, Level

    print(f"[{label}] building the tree ({args.grids:,} grids)…", flush=True)
    started = time.perf_counter()
    plan = DemoPlan(
        towns=args.towns, villages=args.villages, grids=args.grids, households=args.grids, households_per_grid=1
    )
    build_demo(plan)
    tree_seconds = time.perf_counter() - started
    areas = list(Area.objects.values_list("code", "name", "level", "boundary"))
    geojson, archive = export_files(areas)
    grid_count = sum(1 for a in areas if a[2] == Level.GRID)
    Area.objects.exclude(level=Level.CITY).update(boundary=None)

    # What the page does inside the web request: the preview (read and check, nothing written).
    from wangge.registry.boundaries import boundary_import

    started = time.perf_counter()
    previewed = boundary_import(
        data=geojson.read_bytes(), filename=geojson.name, root=Area.objects.get(code="430181"), preview=True
    )
    preview_seconds = time.perf_counter() - started
    assert previewed.ok and not previewed.written

    runs: dict[str, float] = {}
    for name, path, extra in (
        ("geojson_first", geojson, []),
        ("geojson_again", geojson, []),
        ("shapefile_gbk", archive, []),
    ):
        print(f"[{label}] import_boundaries {path.name} ({name})…", flush=True)
        runs[name] = round(manage(env, "import_boundaries", str(path), "--city", "430181", *extra), 2)
    with_boundary = Area.objects.filter(level=Level.GRID, boundary__isnull=False).count()

    # The raw limit: the same UPDATE rows, the driver's executemany, one transaction.
    rows = [
        (json.dumps(b, separators=(",", ":")), "wgs84", 0.0, 0.0, dt.datetime.now(dt.UTC), pk)
        for pk, b in Area.objects.filter(boundary__isnull=False).exclude(level=Level.CITY).values_list("pk", "boundary")
    ]
    q = connection.ops.quote_name
    sql = (
        f"UPDATE {q('registry_area')} SET {q('boundary')} = %s, {q('boundary_datum')} = %s, {q('centre_lat')} = %s, "
        f"{q('centre_lng')} = %s, {q('updated_at')} = %s WHERE {q('id')} = %s"
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    raw_seconds = time.perf_counter() - started

    # Routing a WeChat point: 60 m inside the east border of a grid in the middle of the city.
    routing.clear_cache()
    grid = Area.objects.filter(level=Level.GRID).order_by("code")[grid_count // 2]
    ring = grid.boundary["coordinates"][0]
    east = max(x for x, _y in ring)
    south, north = min(y for _x, y in ring), max(y for _x, y in ring)
    real = ((south + north) / 2, east - 60 / (111_320 * 0.88))
    sent = geodesy.wgs84_to_gcj02(*real)
    started = time.perf_counter()
    as_gcj = routing.area_for_point(*sent, geodesy.GCJ02)
    index_seconds = time.perf_counter() - started
    as_wgs = routing.area_for_point(*sent)
    assert as_gcj is not None and as_gcj.pk == grid.pk, "the GCJ-02 point must route to its own grid"

    result = {
        "bench": "boundaries",
        "database": label,
        "grids": grid_count,
        "features_in_geojson": sum(1 for a in areas if a[2] in ("town", "village", "grid")),
        "geojson_mb": round(geojson.stat().st_size / 1e6, 1),
        "shapefile_zip_mb": round(archive.stat().st_size / 1e6, 1),
        "tree_build_seconds": round(tree_seconds, 1),
        "import_seconds": runs,
        "preview_in_process_seconds": round(preview_seconds, 2),
        "grids_with_boundary_after": with_boundary,
        "raw_update_seconds": round(raw_seconds, 2),
        "import_to_raw_ratio": round(raw_seconds / runs["geojson_again"], 3),
        "routing": {
            "grid": grid.code,
            "wechat_point_gcj02": [round(sent[0], 6), round(sent[1], 6)],
            "offset_m": round(geodesy.distance_m(*real, *sent)),
            "as_gcj02": as_gcj.code,
            "as_if_wgs84": as_wgs.code if as_wgs else None,
            "first_lookup_with_index_build_seconds": round(index_seconds, 2),
        },
        "note": "import seconds are whole command runs (process start, Django setup, read, check, write); "
        "the raw figure is the database's UPDATE alone",
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"boundaries-{label}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    runs_text = ", ".join(f"{k} {v} s" for k, v in runs.items())
    line = (
        f"- {result['measured_at']} boundaries ({label}, {grid_count:,} grids, {result['features_in_geojson']:,} "
        f"features in one {result['geojson_mb']} MB GeoJSON, {os.cpu_count()} cpus, load {load_before:.1f}): "
        f"import_boundaries runs {runs_text}; the page's preview {preview_seconds:.1f} s; "
        f"raw UPDATE {raw_seconds:.2f} s; "
        f"a WeChat point {result['routing']['offset_m']} m "
        f"off routes to {as_gcj.code} as GCJ-02 ({result['routing']['as_if_wgs84']} if read as WGS-84)\n"
    )
    with open(RESULTS / "README.md", "a", encoding="utf-8") as readme:
        readme.write(line)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
