"""The map with no internet: the base layer is drawn from the county's own boundaries, labels and all.

Every request that leaves the app's own server is blocked (a county intranet has no internet and no
tile server); the dashboard map must still draw the town outlines with their names, and the village
names once zoomed in. The boundaries come in through the bulk import, as a county's would.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.registry.boundaries import boundary_import
from wangge.registry.importing import import_jobs_run
from wangge.registry.testing_boundaries import geojson, square

pytestmark = pytest.mark.browser


def test_the_map_draws_the_county_base_layer_with_labels_and_no_tile_server(
    desk_page: Any, live_server: Any, tree: Any, personas: Any, settings: Any
) -> None:
    settings.MAP_TILE_URL = ""
    settings.MAP_MBTILES_PATH = ""
    boundary_import(
        data=geojson(
            [
                # Towns about 30 km across, as real ones are: the map opens at county scale.
                (tree.town.code, square(113.30, 28.00, 113.60, 28.30)),
                (tree.other_town.code, square(113.60, 28.00, 113.90, 28.30)),
                (tree.village.code, square(113.40, 28.10, 113.50, 28.20)),
                (tree.other_village.code, square(113.70, 28.10, 113.80, 28.20)),
            ]
        ),
        filename="county.geojson",
        root=tree.city,
    )
    outside: list[str] = []

    def only_our_server(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    desk_page.context.route("**/*", only_our_server)
    login(desk_page, personas[Role.CITY_ADMIN])
    desk_page.goto(reverse("dashboards:dashboard"))
    desk_page.wait_for_selector("#map[data-ready='1'][data-base-features='4']")

    # The towns are named once: by the dashboard's own figures layer (its subject is the city), so the
    # base layer leaves them out; its dashed village outlines are drawn over the colours.
    names = desk_page.locator("#map .map-label .name, #map .base-label").all_inner_texts()
    assert sorted(names) == sorted([tree.town.name, tree.other_town.name])
    assert desk_page.locator("#map .base-label.village").count() == 0  # at county scale only the towns
    assert desk_page.locator("#map svg path").count() >= 4  # two towns (figures) and two village outlines
    assert desk_page.locator("#map img.leaflet-tile").count() == 0  # no tile server asked for
    screenshot(desk_page, "map-offline-base-layer")
    for _ in range(2):
        desk_page.click(".leaflet-control-zoom-in")
        desk_page.wait_for_timeout(400)  # Leaflet's zoom animation
    villages = desk_page.locator("#map .base-label.village")
    villages.first.wait_for()
    assert sorted(villages.all_inner_texts()) == sorted([tree.village.name, tree.other_village.name])
    assert all(villages.nth(i).is_visible() for i in range(villages.count()))
    assert outside == []  # nothing tried to leave the intranet


def test_the_import_page_previews_the_file_on_the_map_before_writing(
    desk_page: Any, live_server: Any, tree: Any, personas: Any, tmp_path: Any, settings: Any
) -> None:
    settings.VAR_DIR = tmp_path
    from wangge.registry.models import Area

    upload = tmp_path / "grids.geojson"
    upload.write_bytes(
        geojson(
            [
                (tree.grid.code, square(113.60, 28.10, 113.61, 28.11)),
                (tree.sibling_grid.code, square(113.61, 28.10, 113.62, 28.11)),
                ("430181999999", square(113.62, 28.10, 113.63, 28.11)),
            ]
        )
    )
    desk_page.context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
    )
    login(desk_page, personas[Role.CITY_ADMIN])
    desk_page.goto(reverse("registry:boundaries"))
    desk_page.set_input_files("input[name=file]", str(upload))
    with desk_page.expect_navigation():
        desk_page.click("[data-testid=boundary-form] button[type=submit]")
    desk_page.wait_for_selector("[data-testid=import-queued]")  # the check runs in the worker
    assert import_jobs_run()["status"] == "refused"
    desk_page.wait_for_selector("#boundary-map[data-ready='1'][data-features='2']")  # the page reloads itself
    assert desk_page.locator("#boundary-map svg path").count() == 2  # the two good grids, drawn
    problems = desk_page.locator("[data-testid=import-errors] tbody tr")
    assert problems.count() == 1 and "430181999999" in problems.first.inner_text()
    assert desk_page.locator("[data-testid=boundary-confirm]").count() == 0  # a bad file cannot be confirmed
    assert not Area.objects.filter(boundary__isnull=False).exists()
    screenshot(desk_page, "boundary-import-preview")
