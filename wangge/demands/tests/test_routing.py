"""Routing: household, grid, point-in-polygon (STRtree, cached, shared border → lowest code), address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from wangge.core.errors import ValidationFailed
from wangge.demands import routing
from wangge.registry.models import Area, Level
from wangge.registry.services import area_create
from wangge.registry.testing import make_household

pytestmark = pytest.mark.django_db


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def mapped() -> dict[str, Area]:
    routing.clear_cache()
    city = area_create(level=Level.CITY, code="439901", name="测试市", boundary=square(113.0, 27.9, 114.0, 28.5))
    town = area_create(
        level=Level.TOWN, code="439901100", name="东镇", parent=city, boundary=square(113.0, 27.9, 114.0, 28.3)
    )
    village = area_create(
        level=Level.VILLAGE,
        code="439901100201",
        name="樟树村",
        parent=town,
        boundary=square(113.0, 27.95, 114.0, 28.25),
    )
    branch = area_create(level=Level.BRANCH, code="43990110020101", name="樟树支部", parent=village)
    # Created in reverse code order, so that a first-found answer would be the wrong one.
    east = area_create(
        level=Level.GRID,
        code="43990110020101002",
        name="东格",
        parent=branch,
        boundary=square(113.5, 28.0, 114.0, 28.2),
    )
    west = area_create(
        level=Level.GRID,
        code="43990110020101001",
        name="西格",
        parent=branch,
        boundary=square(113.0, 28.0, 113.5, 28.2),
    )
    return {"city": city, "town": town, "village": village, "branch": branch, "east": east, "west": west}


def test_point_inside_a_grid(mapped: dict[str, Area]) -> None:
    assert routing.route(lat=28.1, lng=113.7) == mapped["east"]
    assert routing.route(lat=28.1, lng=113.2) == mapped["west"]


def test_shared_border_goes_to_the_lowest_code(mapped: dict[str, Area]) -> None:
    assert routing.route(lat=28.1, lng=113.5) == mapped["west"]
    # A corner shared by both grids as well.
    assert routing.route(lat=28.0, lng=113.5) == mapped["west"]


def test_point_in_the_village_but_no_grid_goes_to_the_village(mapped: dict[str, Area]) -> None:
    assert routing.route(lat=27.97, lng=113.7) == mapped["village"]


def test_point_outside_the_county_is_refused_bilingually(mapped: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed) as err:
        routing.route(lat=31.2, lng=121.5)
    assert err.value.field == "location"
    assert "范围" in err.value.zh and "outside the county" in err.value.en


def test_bad_coordinates_are_refused(mapped: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed) as err:
        routing.route(lat=128.0, lng=113.0)
    assert err.value.field == "location"


def test_index_is_cached_and_rebuilt_when_a_boundary_changes(mapped: dict[str, Area]) -> None:
    first = routing.boundary_index()
    assert routing.boundary_index() is first  # cached
    later = mapped["east"].updated_at + dt.timedelta(seconds=5)
    # The east grid grows over the west one's ground (as a registry edit would do).
    Area.objects.filter(pk=mapped["east"].pk).update(boundary=square(113.1, 28.0, 114.0, 28.2), updated_at=later)
    Area.objects.filter(pk=mapped["west"].pk).update(boundary=square(113.0, 28.0, 113.1, 28.2), updated_at=later)
    assert routing.boundary_index() is not first
    assert routing.route(lat=28.1, lng=113.3) == mapped["east"]


def test_order_household_then_grid_then_point_then_area_then_address(mapped: dict[str, Area]) -> None:
    household = make_household(grid=mapped["west"])
    assert routing.route(household=household, grid=mapped["east"], lat=28.1, lng=113.7) == mapped["west"]
    assert routing.route(grid=mapped["east"], lat=28.1, lng=113.2) == mapped["east"]
    assert routing.route(area=mapped["town"]) == mapped["town"]
    assert routing.route(address="东镇樟树村老屋组3号") == mapped["village"]
    assert routing.route(address="东镇新街") == mapped["town"]


def test_nothing_to_route_by_is_refused(mapped: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed) as err:
        routing.route(address="不知道哪里")
    assert err.value.field == "area"
    with pytest.raises(ValidationFailed):
        routing.route(grid=mapped["village"])
    with pytest.raises(ValidationFailed):
        routing.route(area=mapped["city"])


def test_no_boundaries_means_points_do_not_route(db: Any) -> None:
    routing.clear_cache()
    assert routing.area_for_point(28.1, 113.7) is None


# --- datums: a point as WeChat gives it (GCJ-02) routes where it really is ------------------------


def _near_the_border() -> tuple[tuple[float, float], tuple[float, float]]:
    """A WGS-84 point 300 m west of the east/west border (lng 113.5), and its GCJ-02 image (east of it)."""
    from wangge.core import geodesy

    wgs = (28.1, 113.497)
    return wgs, geodesy.wgs84_to_gcj02(*wgs)


def test_a_gcj02_point_is_converted_before_point_in_polygon(mapped: dict[str, Area]) -> None:
    wgs, gcj = _near_the_border()
    assert gcj[1] > 113.5  # the ~550 m offset crosses the border: read as WGS-84 it is in the east grid
    assert routing.route(lat=gcj[0], lng=gcj[1]) == mapped["east"]
    assert routing.route(lat=gcj[0], lng=gcj[1], datum="gcj02") == mapped["west"]
    assert routing.route(lat=wgs[0], lng=wgs[1]) == mapped["west"]


def test_a_baidu_point_is_converted_too(mapped: dict[str, Area]) -> None:
    from wangge.core import geodesy

    wgs, _gcj = _near_the_border()
    bd = geodesy.convert(*wgs, "wgs84", "bd09")
    assert routing.route(lat=bd[0], lng=bd[1]) == mapped["east"]
    assert routing.route(lat=bd[0], lng=bd[1], datum="bd09") == mapped["west"]


def test_boundaries_kept_in_gcj02_take_a_wgs84_point_converted(mapped: dict[str, Area]) -> None:
    from wangge.core import geodesy

    # The same two grids digitised on a GCJ-02 map: each corner moved, and the boundary says so.
    for grid in (mapped["east"], mapped["west"]):
        ring = [list(geodesy.wgs84_to_gcj02(lat, lng))[::-1] for lng, lat in grid.boundary["coordinates"][0]]
        Area.objects.filter(pk=grid.pk).update(
            boundary={"type": "Polygon", "coordinates": [ring]}, boundary_datum="gcj02"
        )
    routing.clear_cache()
    wgs, gcj = _near_the_border()
    assert routing.route(lat=wgs[0], lng=wgs[1]) == mapped["west"]
    assert routing.route(lat=gcj[0], lng=gcj[1], datum="gcj02") == mapped["west"]


def test_intake_stores_the_point_in_wgs84_with_the_datum_it_came_in_and_refuses_an_unknown_one(
    mapped: dict[str, Area],
) -> None:
    from wangge.core import geodesy
    from wangge.demands.models import Channel
    from wangge.demands.services import demand_submit

    wgs, gcj = _near_the_border()
    demand = demand_submit(
        channel=Channel.HOTLINE, title="", description="路灯坏了", lat=gcj[0], lng=gcj[1], datum="gcj02"
    ).demand
    assert demand.area == mapped["west"] and demand.location_datum == "gcj02"
    assert geodesy.distance_m(demand.lat, demand.lng, *wgs) < 0.01
    with pytest.raises(ValidationFailed) as caught:
        demand_submit(
            channel=Channel.HOTLINE, title="", description="路灯坏了", lat=gcj[0], lng=gcj[1], datum="beijing54"
        )
    assert caught.value.field == "datum" and "beijing54" in caught.value.en
