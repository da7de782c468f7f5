"""Geometry: the city, its towns and the tiles below them as lng/lat rectangles."""

from __future__ import annotations

import math
from typing import Any

from wangge.registry.demo.plans import CITY_CENTRE, CITY_SIZE_KM, LATTICE, TOWN_CELLS

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
