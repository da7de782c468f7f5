"""The offline base map: the county's own outlines and names for the user's city; MBTiles served with caching."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.accounts.models import Role
from wangge.registry.boundaries import boundary_import
from wangge.registry.boundaries.basemap import tile_url_template
from wangge.registry.testing import make_tree
from wangge.registry.testing_boundaries import geojson, square

pytestmark = pytest.mark.django_db


def _outlines(tree: Any) -> None:
    features = [
        (tree.town.code, square(113.60, 28.10, 113.70, 28.20)),
        (tree.other_town.code, square(113.70, 28.10, 113.80, 28.20)),
        (tree.village.code, square(113.60, 28.10, 113.65, 28.15)),
        (tree.other_village.code, square(113.70, 28.10, 113.75, 28.15)),
    ]
    boundary_import(data=geojson(features), filename="towns.geojson", root=tree.city)


def test_the_base_layer_has_towns_and_villages_with_a_label_point_inside(
    client: Client, tree: Any, personas: Any
) -> None:
    _outlines(tree)
    other_city = make_tree("439999")
    boundary_import(
        data=geojson([(other_city.town.code, square(110.0, 27.0, 110.1, 27.1))]),
        filename="t.geojson",
        root=other_city.city,
    )
    client.force_login(personas[Role.GRID_LEADER])
    response = client.get(reverse("registry:base_layer"))
    assert response.status_code == 200 and "max-age" in response["Cache-Control"]
    features = response.json()["features"]
    names = {f["properties"]["name"]: f for f in features}
    assert set(names) == {tree.town.name, tree.other_town.name, tree.village.name, tree.other_village.name}
    lat, lng = names[tree.village.name]["properties"]["label"]
    assert 28.10 < lat < 28.15 and 113.60 < lng < 113.65
    assert names[tree.town.name]["properties"]["level"] == "town"


def test_the_base_layer_follows_a_reimport(client: Client, tree: Any, personas: Any) -> None:
    _outlines(tree)
    client.force_login(personas[Role.CITY_ADMIN])
    first = client.get(reverse("registry:base_layer")).json()
    boundary_import(
        data=geojson([(tree.town.code, square(113.60, 28.10, 113.70, 28.20))]), filename="t.geojson", root=tree.city
    )
    second = client.get(reverse("registry:base_layer")).json()
    assert len(first["features"]) == 4
    assert {f["properties"]["code"] for f in second["features"]} == {
        tree.town.code,
        tree.village.code,
        tree.other_village.code,
    }


def _mbtiles(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        conn.execute("INSERT INTO metadata VALUES ('format', 'png')")
        # z=2, x=3, y=1 in Leaflet's (XYZ) numbering is row 4 - 1 - 1 = 2 in MBTiles (TMS).
        conn.execute("INSERT INTO tiles VALUES (2, 3, 2, ?)", (b"\x89PNG-tile-3-1",))


def test_mbtiles_are_served_by_the_app_with_an_etag_and_caching(
    client: Client, personas: Any, settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "county.mbtiles"
    _mbtiles(path)
    settings.MAP_MBTILES_PATH = str(path)
    settings.MAP_TILE_URL = ""
    client.force_login(personas[Role.TOWN])
    url = reverse("registry:map_tile", args=[2, 3, 1])
    response = client.get(url)
    assert response.status_code == 200 and response.content == b"\x89PNG-tile-3-1"
    assert response["Content-Type"] == "image/png" and "max-age=86400" in response["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client.get(reverse("registry:map_tile", args=[2, 3, 2])).status_code == 404
    assert client.get(reverse("registry:map_tile", args=[2, 9, 1])).status_code == 404
    assert tile_url_template() == "/registry/map/tiles/{z}/{x}/{y}"
    settings.MAP_TILE_URL = "http://tiles.county.intranet/{z}/{x}/{y}.png"
    assert tile_url_template() == settings.MAP_TILE_URL  # an intranet tile server stays possible


def test_without_mbtiles_there_are_no_tiles(client: Client, personas: Any, settings: Any) -> None:
    settings.MAP_MBTILES_PATH = ""
    settings.MAP_TILE_URL = ""
    client.force_login(personas[Role.TOWN])
    assert client.get(reverse("registry:map_tile", args=[0, 0, 0])).status_code == 404
    assert tile_url_template() == ""
