"""What staff see where they land, and the page defects of "Reach people where they are".

- The village officer lands on a phone on its queue: an urgent demand the grid and the branch
  escalated is counted and listed first, and one tap on a count opens that list in the console.
- The console on a 360 px phone shows each row's time limit.
- The monthly ranking of two towns shows a black list (黑榜), not an empty box, and says why the
  two lists are halves.
- An auditor (read-only) sees no accept, move, dispatch or batch control on the console, the
  demand pages or the export page, where the village officer holding the same demand does.
Screenshots go to var/screenshots/ (docs/screenshots/ with `make screenshots`).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.dashboards import services as dashboard_services
from wangge.demands import services
from wangge.demands.testing import make_category, make_demand

pytestmark = pytest.mark.browser


def fits_the_phone(page: Any) -> bool:
    """Nothing sticks out sideways on a 360 px screen (no horizontal scrolling of the page)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.fixture
def village_work(tree: Any, personas: Any) -> dict[str, Any]:
    category = make_category(accept_hours_urgent=1, resolve_value_urgent=4, resolve_unit="hours", name="燃气测试")
    escalated = make_demand(grid=tree.grid, urgency="urgent", category=category, title="燃气管道漏气")
    escalated = services.demand_escalate(demand=escalated, actor=personas[Role.GRID_LEADER], reason="需要村里协调")
    escalated = services.demand_escalate(demand=escalated, actor=personas[Role.BRANCH], reason="报村")
    ordinary = make_demand(area=tree.village, title="垃圾桶满了")
    make_demand(grid=tree.other_grid, title="外镇的诉求")
    return {"escalated": escalated, "ordinary": ordinary}


def test_the_village_lands_on_its_queue_and_one_tap_opens_the_list(
    make_page: Any, personas: Any, village_work: dict[str, Any]
) -> None:
    escalated = village_work["escalated"]
    page = make_page("phone")
    login(page, personas[Role.VILLAGE])  # lands on core:home
    queue = page.locator("[data-testid=queue]")
    assert queue.is_visible()
    assert "我的待办" in queue.inner_text()  # Chinese first
    assert page.locator("[data-testid=count-escalated]").get_attribute("data-count") == "1"
    assert page.locator("[data-testid=count-new]").get_attribute("data-count") == "2"
    assert page.locator("[data-testid=count-urgent]").get_attribute("data-count") == "1"
    first = page.locator("[data-testid=queue-top] li").first
    assert first.get_attribute("data-code") == escalated.code  # the urgent one, due first
    assert first.locator("[data-testid=act]").is_visible()
    assert fits_the_phone(page)
    screenshot(page, "landing-village")
    with page.expect_navigation():
        page.click("[data-testid=count-escalated]")
    rows = page.locator("[data-testid=console-table] tbody tr[data-code]")
    assert rows.evaluate_all("els => els.map(e => e.dataset.code)") == [escalated.code]
    # And the act link of the landing page opens the demand with its accept button.
    page.go_back()
    with page.expect_navigation():
        first.locator("[data-testid=act]").click()
    assert page.locator("[data-testid=move-accept]").is_visible()


def test_the_phone_console_shows_each_rows_time_limit(
    make_page: Any, personas: Any, village_work: dict[str, Any]
) -> None:
    page = make_page("phone")
    login(page, personas[Role.VILLAGE])
    page.goto(reverse("dashboards:console"))
    dues = page.locator("[data-testid=console-table] tbody td[data-testid=due]")
    assert dues.count() == 2
    for i in range(dues.count()):
        cell = dues.nth(i)
        assert cell.is_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 360 + 1, box  # on screen, no sideways scroll
        assert cell.inner_text().strip() not in ("", "—")
    screenshot(page, "console-due")


def test_the_black_list_of_a_short_ranking_is_not_empty(make_page: Any, tree: Any, personas: Any) -> None:
    # Two towns with demands this month: one red, one black (halves), never the same on both.
    for _i in range(2):
        make_demand(grid=tree.grid)
    # Each town accepts one (a town is ranked once it has a rate); the tie goes to the one with more demands.
    services.demand_accept(demand=make_demand(grid=tree.grid), actor=personas[Role.GRID_LEADER])
    services.demand_accept(demand=make_demand(area=tree.other_town), actor=personas["outsider"])
    dashboard_services.rollup_refresh_recent()
    page = make_page("phone")
    login(page, personas[Role.CITY_ADMIN])
    page.goto(reverse("dashboards:ranking"))
    red = page.locator("[data-testid=red-board] li")
    black = page.locator("[data-testid=black-board] li")
    assert (red.count(), black.count()) == (1, 1), page.locator("[data-testid=ranking]").inner_text()
    assert tree.town.name in red.inner_text() and tree.other_town.name in black.inner_text()
    assert page.locator("[data-testid=board-split]").is_visible()
    assert "黑榜" in page.locator("[data-testid=black-board] header").inner_text()
    screenshot(page, "ranking-short")


def test_an_auditor_sees_no_write_buttons(make_page: Any, personas: Any, village_work: dict[str, Any]) -> None:
    demand = village_work["ordinary"]
    pages = {
        "console": reverse("dashboards:console") + "?view=all",
        "console_demand": reverse("dashboards:console_demand", args=[demand.pk]),
        "detail": reverse("demands:detail", args=[demand.pk]),
        "exports": reverse("dashboards:exports"),
    }
    write = (
        "input[name=pick], [data-testid=batch-dispatch], [data-testid=batch-submit], [data-testid=moves], "
        "[data-testid=move-accept], form[action*='/move/'], [data-testid=reply-form], [data-testid=act]"
    )
    # The village officer holds the demand: the same pages offer it the controls (the check can fail).
    village = make_page("desk")
    login(village, personas[Role.VILLAGE])
    offered = {}
    for name, url in pages.items():
        village.goto(url)
        offered[name] = village.locator(write).count()
    assert offered["console"] and offered["console_demand"] and offered["detail"]

    auditor = make_page("desk")
    login(auditor, personas[Role.AUDITOR])
    for name, url in pages.items():
        auditor.goto(url)
        assert auditor.locator(write).count() == 0, name
    auditor.goto(pages["console"])
    assert auditor.locator(f"tr[data-code='{demand.code}']").is_visible()  # it reads, it does not act
    auditor.goto(reverse("core:home"))
    assert auditor.locator("[data-testid=queue]").count() == 0
    screenshot(auditor, "landing-auditor")


def square(lng: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


# Every text ECharts drew in a chart, with its box in the chart's own pixels.
CHART_TEXTS = """id => {
  const inst = echarts.getInstanceByDom(document.getElementById(id));
  return inst.getZr().storage.getDisplayList().filter(e => e.style && typeof e.style.text === 'string' && e.style.text)
    .map(e => { const r = e.getBoundingRect().clone(); const m = e.getComputedTransform(); if (m) r.applyTransform(m);
                return { text: e.style.text, x: r.x, y: r.y, w: r.width, h: r.height }; });
}"""


@pytest.mark.parametrize("kind", ["desk", "phone"])
def test_the_dashboard_map_is_labelled_its_zoom_buttons_line_up_and_pie_labels_fit(
    kind: str, make_page: Any, tree: Any, personas: Any
) -> None:
    tree.town.boundary = square(113.60, 28.10, 0.10)
    tree.other_town.boundary = square(113.70, 28.10, 0.10)
    for area in (tree.town, tree.other_town):
        area.save(update_fields=["boundary"])
    from wangge.demands.models import Category

    leaves = list(Category.objects.filter(parent__isnull=False).select_related("parent").order_by("code")[:9])
    for i, category in enumerate(leaves):  # long "parent / child" names, the ones that were cut
        make_demand(grid=tree.grid if i % 2 else tree.other_grid, category=category)
    page = make_page(kind)
    login(page, personas[Role.CITY_ADMIN])
    page.goto(reverse("dashboards:dashboard"))
    page.wait_for_selector("#map[data-ready='1']")
    page.wait_for_selector("#chart-categories canvas")

    labels = page.locator("#map .map-label")
    assert sorted(labels.evaluate_all("els => els.map(e => e.querySelector('.name').textContent)")) == sorted(
        [tree.town.name, tree.other_town.name]
    )
    assert all(labels.nth(i).is_visible() for i in range(labels.count()))
    zoom_in = page.locator(".leaflet-control-zoom-in").bounding_box()
    zoom_out = page.locator(".leaflet-control-zoom-out").bounding_box()
    assert zoom_in and zoom_out
    # One column of two equal boxes, one right under the other, each glyph inside its own box.
    assert abs(zoom_in["x"] - zoom_out["x"]) < 1 and abs(zoom_in["width"] - zoom_out["width"]) < 1
    assert abs(zoom_in["y"] + zoom_in["height"] - zoom_out["y"]) <= 1.5 and zoom_in["width"] <= 34
    for sel in (".leaflet-control-zoom-in span", ".leaflet-control-zoom-out span"):
        glyph = page.locator(sel).bounding_box()
        box = page.locator(sel.split(" ")[0]).bounding_box()
        assert (
            glyph
            and box
            and box["y"] - 0.5 <= glyph["y"]
            and glyph["y"] + glyph["height"] <= box["y"] + box["height"] + 0.5
        )

    width = page.locator("#chart-categories").bounding_box()["width"]
    texts = page.evaluate(CHART_TEXTS, "chart-categories")
    assert texts, "the pie has labels"
    for t in texts:
        assert "…" not in t["text"] and "..." not in t["text"], t  # not cut
        assert t["x"] >= -0.5 and t["x"] + t["w"] <= width + 0.5, (t, width)  # inside the chart
    page.locator("#map").scroll_into_view_if_needed()
    screenshot(page, "dashboard-map-labels")
