"""Map datums as Chinese phones and surveys give them, and the published conversions between them.

- WGS-84 (`wgs84`): GPS, survey data, most GeoJSON and shapefiles, the browser's geolocation.
- CGCS2000 (`cgcs2000`): China's national geodetic datum. It differs from WGS-84 by a few
  centimetres, far below what routing a demand to a grid can see, so it is treated as WGS-84.
- GCJ-02 (`gcj02`, "Mars coordinates"): what WeChat's location message, Amap (高德) and Tencent maps
  give; the published obfuscation moves a point by roughly 300-600 m in Hunan.
- BD-09 (`bd09`): Baidu maps, GCJ-02 moved once more.

The forward formulas are the widely published ones (the Krasovsky-ellipsoid offset of GCJ-02 and
Baidu's rotation); GCJ-02 → WGS-84 has no closed form and is solved by iteration to about a
millimetre. Outside China the encrypted datums equal WGS-84 (the services do not shift there).
Pure functions: no Django, no database.
"""

from __future__ import annotations

import math

WGS84 = "wgs84"
CGCS2000 = "cgcs2000"
GCJ02 = "gcj02"
BD09 = "bd09"
DATUMS: tuple[str, ...] = (WGS84, CGCS2000, GCJ02, BD09)

# The semi-major axis and eccentricity squared of the Krasovsky 1940 ellipsoid, as the formula uses.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lat: float, lng: float) -> bool:
    """The rough box outside which GCJ-02 and BD-09 equal WGS-84 (as the published formula has it)."""
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point as WeChat, Amap and Tencent would show it."""
    if out_of_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float, *, tolerance: float = 1e-9, max_iterations: int = 30) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is the given point, by fixed-point iteration (~1e-9°, ~0.1 mm)."""
    if out_of_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(max_iterations):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < tolerance and abs(dlng) < tolerance:
            break
    return wlat, wlng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """A GCJ-02 point as Baidu maps give it."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A Baidu point back to GCJ-02 (Baidu's published inverse, good to a few centimetres)."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def _canonical(datum: str) -> str:
    if datum not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; one of {', '.join(DATUMS)}")
    return WGS84 if datum == CGCS2000 else datum


def convert(lat: float, lng: float, source: str, target: str) -> tuple[float, float]:
    """The point given in `source` expressed in `target` (any of DATUMS; CGCS2000 is taken as WGS-84)."""
    source, target = _canonical(source), _canonical(target)
    if source == target:
        return lat, lng
    # Through WGS-84: every datum has a way there and back.
    if source == GCJ02:
        lat, lng = gcj02_to_wgs84(lat, lng)
    elif source == BD09:
        lat, lng = gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))
    if target == GCJ02:
        return wgs84_to_gcj02(lat, lng)
    if target == BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))
    return lat, lng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine on a 6,371 km sphere): enough to say "about 500 m"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371000.0 * math.asin(math.sqrt(h))
