"""Every stored point is WGS-84 with the datum it came in: demands, facilities, inspections, parking lots
(issue 16 item 2), through one function, `registry.points.stored_point`."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed
from wangge.registry.points import stored_point

# 浏阳 old town, in WGS-84, and the same spot as WeChat or Amap would give it.
WGS = (28.1537, 113.6333)
GCJ = geodesy.convert(*WGS, "wgs84", "gcj02")


def close(a: tuple[Any, ...], b: tuple[float, float]) -> bool:
    return geodesy.distance_m(a[0], a[1], b[0], b[1]) < 0.05


def test_a_point_is_stored_in_wgs84_with_its_datum() -> None:
    assert geodesy.distance_m(*WGS, *GCJ) > 300  # the offset that would put it in the next grid
    lat, lng, datum = stored_point(*GCJ, "gcj02")
    assert close((lat, lng), WGS) and datum == "gcj02"
    assert stored_point(*WGS) == (*WGS, "wgs84")
    assert stored_point("", None, "bd09") == (None, None, "wgs84")


@pytest.mark.parametrize(
    ("lat", "lng", "datum", "field"),
    [(28.1, None, "wgs84", "location"), ("北", 113.6, "wgs84", "location"), (95, 113, "wgs84", "location"),
     (28.1, 113.6, "beijing54", "datum")],
)  # fmt: skip
def test_a_bad_point_or_datum_is_named(lat: Any, lng: Any, datum: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        stored_point(lat, lng, datum)
    assert caught.value.field == field


@pytest.mark.django_db
def test_facilities_inspections_and_lots_keep_their_point_in_wgs84(tree: Any) -> None:
    from wangge.facilities.testing import make_director_user, make_facility, make_inspection
    from wangge.parking.services import lot_update
    from wangge.parking.testing import make_lot

    facility = make_facility(area=tree.grid, lat=GCJ[0], lng=GCJ[1], datum="gcj02", department=tree.department)
    assert close((facility.lat, facility.lng), WGS) and facility.location_datum == "gcj02"
    director = make_director_user(facility=facility, name="周环卫")
    inspection = make_inspection(director=director, lat=GCJ[0], lng=GCJ[1], datum="gcj02")
    assert close((inspection.lat, inspection.lng), WGS) and inspection.location_datum == "gcj02"

    lot = make_lot(area=tree.village, lat=GCJ[0], lng=GCJ[1], datum="gcj02")
    assert close((lot.lat, lot.lng), WGS) and lot.location_datum == "gcj02"
    renamed = lot_update(lot=lot, name="新名字")  # the point is not given again: kept as stored
    assert (renamed.lat, renamed.lng, renamed.location_datum) == (lot.lat, lot.lng, "gcj02")
    moved = lot_update(lot=lot, lat=WGS[0], lng=WGS[1])
    assert (moved.lat, moved.lng, moved.location_datum) == (*WGS, "wgs84")
