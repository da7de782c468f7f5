"""A town batch-dispatches from the console, and the dashboard shows those moves in its numbers.

Three demands reached the town yesterday. Its service centre selects them in the console and sends
them to a department in one go; after the worker's rollup refresh the city dashboard counts three
demands handed on, three that reached a department, and the department's own dashboard counts them.
Screenshots of the console and the dashboard at phone and desk widths go to var/screenshots/
(docs/screenshots/ with `make screenshots`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.core import clock
from wangge.dashboards import services
from wangge.demands.models import Demand, State
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.browser


def square(lng: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def history(tree: Any, personas: Any, days: int = 28) -> int:
    """A month of the grid's ordinary work (accepted, resolved, mostly rated), so the charts have a shape."""
    from wangge.demands import services as demand_services
    from wangge.demands.models import Category

    leader = personas[Role.GRID_LEADER]
    categories = list(Category.objects.filter(parent__isnull=False).order_by("code")[:8])
    start = clock.now() - dt.timedelta(days=days)
    made = 0
    for i in range(24):
        when = start + dt.timedelta(days=i * days / 24, hours=(i * 5) % 9)
        with time_machine.travel(when, tick=False):
            demand = make_demand(grid=tree.grid, category=categories[i % len(categories)], title=f"日常诉求{i}")
        with time_machine.travel(when + dt.timedelta(minutes=20 + 17 * (i % 7)), tick=False):
            demand = demand_services.demand_accept(demand=demand, actor=leader)
        with time_machine.travel(when + dt.timedelta(hours=2 + 3 * (i % 5)), tick=False):
            demand = demand_services.demand_resolve(demand=demand, actor=leader, result="已处理完毕")
        if i % 4:
            with time_machine.travel(when + dt.timedelta(days=1), tick=False):
                rating = "satisfied" if i % 5 else "basic"
                demand_services.demand_rate(demand=demand, satisfaction=rating, token=demand.tracking_token)
        made += 1
    return made


def kpi_denominator(page: Any, measure: str) -> str:
    return str(page.locator(f"[data-measure={measure}]").get_attribute("data-denominator"))


def test_town_batch_dispatch_shows_on_the_dashboard(make_page: Any, tree: Any, personas: Any) -> None:
    # The map needs shapes: two towns side by side, the grids inside the first.
    tree.town.boundary = square(113.60, 28.10, 0.10)
    tree.other_town.boundary = square(113.70, 28.10, 0.10)
    tree.grid.boundary = square(113.62, 28.12, 0.03)
    tree.sibling_grid.boundary = square(113.65, 28.12, 0.03)
    tree.village.boundary = square(113.61, 28.11, 0.08)
    for area in (tree.town, tree.other_town, tree.village, tree.grid, tree.sibling_grid):
        area.save(update_fields=["boundary"])
    history(tree, personas)
    yesterday = clock.now() - dt.timedelta(days=1)
    with time_machine.travel(yesterday, tick=False):
        mine = [make_demand(area=tree.town, title=t) for t in ("主干道井盖缺失", "变压器噪声扰民", "路口信号灯故障")]
        make_demand(grid=tree.grid, title="楼道灯不亮")
        make_demand(grid=tree.other_grid, title="外镇的诉求")
    services.rollup_refresh_recent()

    city = make_page("desk")
    login(city, personas[Role.CITY_ADMIN])
    city.goto(reverse("dashboards:dashboard") + "?period=30d")
    received = Demand.objects.count()
    assert city.locator("[data-measure=received] .num").inner_text() == str(received)
    assert kpi_denominator(city, "return_rate") == "0"  # nothing handed on yet

    # The town's service centre: its queue, three demands selected, one department, one click.
    town = make_page("desk")
    login(town, personas[Role.TOWN])
    town.goto(reverse("dashboards:console"))
    rows = town.locator("[data-testid=console-table] tbody tr")
    assert rows.count() == 4  # its three and the grid's, not the other town's
    assert "139****1234" in town.locator("[data-testid=console-table]").inner_text()
    for demand in mine:
        town.check(f"input[name=pick][value^='{demand.pk}:']")
    town.select_option("select[name=department]", label=tree.department.name)
    town.fill("input[name=note]", "请尽快派人处理")
    screenshot(town, "console")
    with town.expect_navigation():
        town.click("[data-testid=batch-submit]")
    results = town.locator("[data-testid=batch-results] li")
    assert results.count() == 3
    assert results.evaluate_all("els => els.map(e => e.dataset.ok)") == ["1", "1", "1"]
    for demand in mine:
        demand.refresh_from_db()
        assert demand.state == State.ESCALATED and demand.holder_department == tree.department
    assert Demand.objects.filter(holder_department=tree.department).count() == 3

    phone = make_page("phone")
    login(phone, personas[Role.TOWN])
    phone.goto(reverse("dashboards:console"))  # the queue: the three now with the department, and the grid's
    assert phone.locator("[data-testid=console-table] tbody tr").count() == 4
    screenshot(phone, "console")

    # The worker refreshes the rollups; the dashboard shows the three dispatches.
    report = services.rollup_refresh_recent()
    assert report.days >= 1
    city.goto(reverse("dashboards:dashboard") + "?period=30d")
    assert kpi_denominator(city, "return_rate") == "3"
    climb = city.locator("[data-testid=climb]").inner_text()
    assert re.search(r"职能部门\s+3", climb), climb
    city.wait_for_selector("#chart-daily canvas")
    city.wait_for_selector("#map[data-ready='1']")
    screenshot(city, "dashboard")
    # Drill-down: the town from the list below the city, then its grid.
    with city.expect_navigation():
        city.click(f"[data-testid=children] a:text('{tree.town.name}')")
    assert tree.town.name in city.locator("[data-testid=subject]").inner_text()
    assert city.locator("[data-measure=received] .num").inner_text() == str(received - 1)

    # The department's own dashboard counts the three sent to it.
    dept = make_page("phone")
    login(dept, personas[Role.DEPARTMENT])
    dept.goto(reverse("dashboards:dashboard") + "?period=30d")
    assert dept.locator("[data-measure=received] .num").inner_text() == "3"
    town_phone = make_page("phone")
    login(town_phone, personas[Role.TOWN])
    town_phone.goto(reverse("dashboards:dashboard") + "?period=30d")
    town_phone.wait_for_selector("#chart-daily canvas")
    assert kpi_denominator(town_phone, "return_rate") == "3"
    assert bool(town_phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))
    screenshot(town_phone, "dashboard")

    screen = make_page("desk", viewport={"width": 1600, "height": 900})
    login(screen, personas[Role.CITY_ADMIN])
    screen.goto(reverse("dashboards:screen") + "?period=30d")
    screen.wait_for_selector("#chart-daily canvas")
    screenshot(screen, "screen")


def test_live_reply_reaches_the_resident_and_back(make_page: Any, tree: Any, personas: Any) -> None:
    demand = make_demand(area=tree.town, title="小区停水三天")
    town = make_page("desk")
    login(town, personas[Role.TOWN])
    town.goto(reverse("dashboards:console_demand", args=[demand.pk]))
    town.fill("textarea[name=body]", "您好，供水公司今天下午三点前恢复供水。")
    town.click("[data-testid=reply-submit]")
    town.wait_for_selector("[data-testid=comments] li[data-by=staff]")
    resident = make_page("phone")
    resident.goto(reverse("demands:track", args=[demand.tracking_token]))
    assert "下午三点前恢复供水" in resident.content()
    # The resident answers; the console shows it by itself within a few seconds (htmx polling).
    from wangge.demands import services as demand_services

    demand_services.demand_comment(demand=demand, body="收到，谢谢！", token=demand.tracking_token)
    town.wait_for_selector("[data-testid=comments] li[data-by=resident]", timeout=12_000)
    assert "收到，谢谢" in town.locator("[data-testid=comments]").inner_text()


def test_a_tap_on_a_cards_question_mark_shows_how_it_is_counted(make_page: Any, tree: Any, personas: Any) -> None:
    """Before any worker pass: yesterday's demand is already counted, and each `?` opens its definition."""
    with time_machine.travel(clock.now() - dt.timedelta(days=1), tick=False):
        make_demand(grid=tree.grid, title="楼道灯不亮")
    phone = make_page("phone")
    login(phone, personas[Role.CITY_ADMIN])
    phone.goto(reverse("dashboards:dashboard") + "?period=30d")
    assert phone.locator("[data-measure=received] .num").inner_text() == "1"  # no rollup yet: read live
    definition = phone.locator("#def-ontime_rate")
    assert not definition.is_visible()
    help_button = phone.locator("[data-measure=ontime_rate] .measure-help")
    assert help_button.get_attribute("aria-describedby") == "def-ontime_rate"
    help_button.tap()
    definition.wait_for(state="visible")
    assert "总办结时限" in definition.inner_text() and "延期" in definition.inner_text()
    screenshot(phone, "dashboard-definition")
    phone.locator("[data-testid=subject]").tap()  # a tap elsewhere closes it (light dismiss)
    definition.wait_for(state="hidden")
