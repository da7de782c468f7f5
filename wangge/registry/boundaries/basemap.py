"""The offline base map: the county's own town and village outlines with their names, and tiles from MBTiles.

County intranets have no internet, so the map never needs a tile server: `base_layer` gives the towns
and villages of the user's cities as simplified GeoJSON (about 30 m; a few hundred KB for the reference
city), each with a point inside for its label, cached until a boundary changes. A county that has a
raster MBTiles file (SQLite: tiles(zoom_level, tile_column, tile_row, tile_data), rows counted from the
south as TMS does) names it in settings.MAP_MBTILES_PATH and `mbtiles_tile` serves it; an intranet tile
server (settings.MAP_TILE_URL) stays possible.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

import shapely
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q
from shapely.geometry import mapping, shape

from wangge.accounts.scope import scope_for
from wangge.registry.models import Area, Level

SIMPLIFY_DEGREES = 0.0003  # ~30 m: outlines for orientation, not for routing
CACHE_SECONDS = 24 * 3600


def _city_paths(user: Any) -> list[str]:
    scope = scope_for(user)
    cities = Area.objects.filter(level=Level.CITY)
    if scope.is_global:
        return list(cities.values_list("path", flat=True))
    heads = sorted({path.split("/")[0] + "/" for path in scope.area_paths if path})
    return list(cities.filter(path__in=heads).values_list("path", flat=True))


def _rounded(coords: Any) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return [round(coords[0], 5), round(coords[1], 5)]
    return [_rounded(c) for c in coords]


def base_layer(*, user: Any) -> dict[str, Any]:
    """Towns and villages of the user's cities, simplified, each with `label` [lat, lng] inside it."""
    paths = _city_paths(user)
    if not paths:
        return {"type": "FeatureCollection", "features": []}
    rows = Area.objects.filter(level__in=[Level.TOWN, Level.VILLAGE], boundary__isnull=False)
    under = Q()
    for path in paths:
        under |= Q(path__startswith=path)
    rows = rows.filter(under)
    stamp = rows.aggregate(n=Count("id"), last=Max("updated_at"))
    key = "basemap:" + hashlib.sha1(f"{paths}|{stamp['n']}|{stamp['last']}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    features = []
    for code, name, level, boundary in rows.order_by("path").values_list("code", "name", "level", "boundary"):
        if not isinstance(boundary, dict):
            continue
        geometry = boundary.get("geometry") if boundary.get("type") == "Feature" else boundary
        try:
            geom = shape(geometry)
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
        if geom.is_empty:
            continue
        inside = geom.representative_point()
        simple = shapely.simplify(geom, SIMPLIFY_DEGREES, preserve_topology=True)
        plain = mapping(simple)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": plain["type"], "coordinates": _rounded(plain["coordinates"])},
                "properties": {
                    "code": code,
                    "name": name,
                    "level": level,
                    "label": [round(inside.y, 5), round(inside.x, 5)],
                },
            }
        )
    layer = {"type": "FeatureCollection", "features": features}
    cache.set(key, layer, CACHE_SECONDS)
    return layer


def mbtiles_tile(z: int, x: int, y: int) -> tuple[bytes, str] | None:
    """One tile (data, content type) of settings.MAP_MBTILES_PATH, read-only; None when absent."""
    path = settings.MAP_MBTILES_PATH
    if not path:
        return None
    row = (1 << z) - 1 - y  # MBTiles counts rows from the south (TMS); Leaflet from the north
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        found = conn.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?", (z, x, row)
        ).fetchone()
        if found is None:
            return None
        fmt = conn.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    kind = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(fmt[0] if fmt else "png", "image/png")
    return bytes(found[0]), kind


def tile_url_template() -> str:
    """The Leaflet tile URL the map uses: an intranet tile server, else this site's MBTiles, else none."""
    if settings.MAP_TILE_URL:
        return str(settings.MAP_TILE_URL)
    if settings.MAP_MBTILES_PATH:
        from django.urls import reverse

        return reverse("registry:map_tile", args=[0, 0, 0]).removesuffix("0/0/0") + "{z}/{x}/{y}"
    return ""
