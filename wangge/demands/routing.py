"""Where a demand belongs: by household, by grid (chosen or by its QR code), by point, or by address.

Point-in-polygon uses a shapely 2 STRtree over every area that has a GeoJSON boundary, built once
per process and rebuilt when any boundary changes (the cache key is the count and the latest
`updated_at` of the areas with boundaries, one cheap aggregate per lookup). A point on a border
shared by two grids is given to the lowest code, so the answer never depends on insertion order.

Points arrive in the datum their source uses (WeChat GCJ-02, Baidu BD-09, GPS WGS-84); each lookup
converts the point into the datum each boundary records (`Area.boundary_datum`) before testing it,
since GCJ-02's few hundred metres are enough to land in the neighbouring grid.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max
from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.prepared import prep

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed
from wangge.registry.models import LEVEL_DEPTH, Area, Level

log = logging.getLogger(__name__)


@dataclass
class _Index:
    key: tuple[Any, ...]
    tree: STRtree | None
    geoms: list[Any]
    prepared: list[Any]
    areas: list[tuple[int, str, str, int]]  # (pk, code, level, depth)
    datums: list[str]  # each boundary's datum, parallel to areas
    has_city_boundary: bool


_lock = threading.Lock()
_cache: dict[str, _Index] = {}


def _current_key() -> tuple[Any, ...]:
    agg = Area.objects.filter(boundary__isnull=False).aggregate(n=Count("id"), last=Max("updated_at"))
    return (agg["n"], agg["last"])


def _build(key: tuple[Any, ...]) -> _Index:
    geoms: list[Any] = []
    areas: list[tuple[int, str, str, int]] = []
    datums: list[str] = []
    for pk, code, level, depth, boundary, datum in Area.objects.filter(boundary__isnull=False).values_list(
        "pk", "code", "level", "depth", "boundary", "boundary_datum"
    ):
        if not isinstance(boundary, dict):
            continue
        try:
            geometry = boundary.get("geometry", boundary) if boundary.get("type") == "Feature" else boundary
            geom = shape(geometry)
        except Exception:  # a broken boundary must not stop intake; the registry import shows it
            log.warning("area %s has an unreadable boundary; skipped for routing", code)
            continue
        if geom.is_empty:
            continue
        geoms.append(geom)
        areas.append((pk, code, level, depth))
        datums.append(datum)
    tree = STRtree(geoms) if geoms else None
    return _Index(
        key=key,
        tree=tree,
        geoms=geoms,
        prepared=[prep(g) for g in geoms],
        areas=areas,
        datums=datums,
        has_city_boundary=any(a[2] == Level.CITY for a in areas),
    )


def boundary_index() -> _Index:
    """The cached index, rebuilt when a boundary was added, removed or changed."""
    key = _current_key()
    index = _cache.get("index")
    if index is not None and index.key == key:
        return index
    with _lock:
        index = _cache.get("index")
        if index is None or index.key != key:
            index = _build(key)
            _cache["index"] = index
    return index


def clear_cache() -> None:
    _cache.clear()


def areas_at_point(lat: float, lng: float, datum: str = geodesy.WGS84) -> list[tuple[int, str, str, int]]:
    """Every area whose boundary covers the point (border included), deepest first, then lowest code.

    `datum` is the point's; it is converted into each boundary's own datum before the test.
    """
    index = boundary_index()
    if index.tree is None:
        return []
    found = []
    for boundary_datum in sorted(set(index.datums)):
        x_lat, x_lng = geodesy.convert(lat, lng, datum, boundary_datum)
        point = Point(x_lng, x_lat)  # GeoJSON order: longitude, latitude
        hits = index.tree.query(point, predicate="intersects")
        found += [
            index.areas[i]
            for i in sorted(int(h) for h in hits)
            if index.datums[i] == boundary_datum and index.prepared[i].intersects(point)
        ]
    found.sort(key=lambda a: (-a[3], a[1]))
    return found


def check_point(lat: float | None, lng: float | None) -> None:
    if lat is None and lng is None:
        return
    if lat is None or lng is None or not (-90 <= lat <= 90) or not (-180 <= lng <= 180):
        raise ValidationFailed("位置坐标无效", "the location is not a valid point", field="location")


def area_for_point(lat: float, lng: float, datum: str = geodesy.WGS84) -> Area | None:
    """The deepest area (a grid when one covers it) at the point; ValidationFailed outside the county.

    Outside the county means: outside the city's boundary when one is known, otherwise outside
    every known boundary. With no boundaries at all the point cannot route (None).
    """
    check_point(lat, lng)
    index = boundary_index()
    if index.tree is None:
        return None
    found = areas_at_point(lat, lng, datum)
    inside_county = any(a[2] == Level.CITY for a in found) if index.has_city_boundary else bool(found)
    if not inside_county:
        raise ValidationFailed(
            "该位置不在本县（市）范围内，请确认位置或选择所在网格",
            "the location is outside the county; check it or choose the grid",
            field="location",
            code="outside_county",
        )
    below_city = [a for a in found if a[2] != Level.CITY]
    if not below_city:
        return None
    return Area.objects.get(pk=below_city[0][0])


def area_for_address(address: str) -> Area | None:
    """The village (else the town) whose name appears in the address; the longest name wins."""
    text = (address or "").strip()
    if not text:
        return None
    candidates = [
        (-depth, -len(name), code, pk)
        for pk, name, code, depth in Area.objects.filter(level__in=[Level.VILLAGE, Level.TOWN]).values_list(
            "pk", "name", "code", "depth"
        )
        if name and name in text
    ]
    if not candidates:
        return None
    # Deeper (a village) first, then the longer name, then the lowest code: one answer, always.
    return Area.objects.get(pk=min(candidates)[3])


def route(
    *,
    household: Any | None = None,
    grid: Area | None = None,
    area: Area | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    datum: str = geodesy.WGS84,
) -> Area:
    """The area a new demand belongs to, in the order household → grid → point → area → address."""
    if household is not None:
        return household.grid  # type: ignore[no-any-return]
    if grid is not None:
        if grid.level != Level.GRID:
            raise ValidationFailed("所选不是微网格", "the chosen area is not a micro-grid", field="grid")
        return grid
    if lat is not None or lng is not None:
        found = area_for_point(lat, lng, datum)  # type: ignore[arg-type]
        if found is not None:
            return found
    if area is not None:
        if LEVEL_DEPTH.get(area.level, 0) < LEVEL_DEPTH[Level.TOWN]:
            raise ValidationFailed(
                "请至少选择到乡镇（街道）", "choose at least a town or street", field="area", code="area_too_high"
            )
        return area
    by_address = area_for_address(address)
    if by_address is not None:
        return by_address
    raise ValidationFailed(
        "无法确定诉求所在的网格或村（社区），请选择网格或填写详细地址",
        "cannot tell which grid or village this belongs to; choose a grid or give the address",
        field="area",
        code="unroutable",
    )
