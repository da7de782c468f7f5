"""Across registry and demands: an import of boundaries is what routing uses at the next lookup."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.core import geodesy
from wangge.demands import routing
from wangge.registry.boundaries import boundary_import
from wangge.registry.testing_boundaries import geojson, square

pytestmark = pytest.mark.django_db


def test_the_routing_index_rebuilds_after_an_import_and_a_wechat_point_routes_to_the_right_grid(tree: Any) -> None:
    routing.clear_cache()
    west, east = square(113.60, 28.10, 113.61, 28.11), square(113.61, 28.10, 113.62, 28.11)
    boundary_import(
        data=geojson(
            [(tree.city.code, square(113.5, 28.0, 113.7, 28.2)), (tree.grid.code, west), (tree.sibling_grid.code, east)]
        ),
        filename="a.geojson",
        root=tree.city,
    )
    real = (28.105, 113.6085)  # 150 m west of the border, in the west grid
    sent = geodesy.wgs84_to_gcj02(*real)  # as WeChat gives it: ~650 m east, in the east grid
    assert routing.area_for_point(*sent) == tree.sibling_grid
    assert routing.area_for_point(*sent, geodesy.GCJ02) == tree.grid
    # Swapped by a re-import: the next lookup sees the new shapes without a restart.
    boundary_import(
        data=geojson([(tree.grid.code, east), (tree.sibling_grid.code, west)]), filename="b.geojson", root=tree.city
    )
    assert routing.area_for_point(*sent, geodesy.GCJ02) == tree.sibling_grid
