"""The pages work under the Content-Security-Policy, and a hostile area name is shown, never run.

Each page is opened in Chromium with a listener for `securitypolicyviolation` installed before any
of the page's own script: an inline script, an on*= handler, a javascript: link, htmx's hx-on or an
eval in a vendored library would each show up there (and as a console error) and fail the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login
from tests.browser.test_dashboard_console import square
from wangge.accounts.models import Role
from wangge.dashboards import services
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)>"
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = (e.sourceFile || "") + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""


class Watched:
    """A page whose policy violations, console errors, uncaught errors and dialogs are recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"))

    def _console(self, msg: Any) -> None:
        # A failed load is recorded with its URL by the response listener; the browser's own /favicon.ico
        # request (the admin has no icon link) is never a page request, and is not this test's concern.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {msg.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visit(self, url: str, ready: str | None = None) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), url
        if ready:
            self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("networkidle")
        violations = self.page.evaluate("window.__csp")
        assert not violations and not self.problems, (url, violations, self.problems)


def _shapes(tree: Any) -> None:
    tree.town.boundary = square(113.60, 28.10, 0.10)
    tree.other_town.boundary = square(113.70, 28.10, 0.10)
    for area in (tree.town, tree.other_town):
        area.save(update_fields=["boundary"])


def test_the_main_pages_run_under_the_policy(make_page: Any, tree: Any, personas: Any) -> None:
    _shapes(tree)
    demand = make_demand(grid=tree.grid, title="楼道灯不亮")
    services.rollup_refresh_recent()

    resident = Watched(make_page("phone"))
    resident.visit(reverse("accounts:login"))
    resident.visit(reverse("demands:report") + f"?grid={tree.grid.code}")
    resident.visit(reverse("demands:track", args=[demand.tracking_token]))

    city = Watched(make_page("desk"))
    login(city.page, personas[Role.CITY_ADMIN])
    city.visit(reverse("dashboards:dashboard") + "?period=30d", ready="#map[data-ready='1']")
    assert city.page.locator("#chart-daily canvas").count() == 1  # ECharts drew
    city.visit(reverse("dashboards:screen") + "?period=30d", ready="#map[data-ready='1']")
    city.visit(reverse("dashboards:console"))
    city.visit(reverse("dashboards:console_demand", args=[demand.pk]))
    city.visit(reverse("demands:detail", args=[demand.pk]))
    city.visit(reverse("dashboards:report"))
    city.visit("/api/v1/docs", ready="#swagger-ui .info")  # ninja's Swagger UI, vendored
    city.visit("/admin/")

    # The behaviour that used to be inline still works from the shared static script.
    city.visit(reverse("dashboards:console"))
    pick_all = city.page.locator("[data-select-all=pick]")
    if pick_all.count():
        pick_all.check()
        picks = city.page.locator("input[name=pick]")
        assert picks.count() and all(picks.nth(i).is_checked() for i in range(picks.count()))
    city.visit(reverse("dashboards:dashboard") + "?period=30d")
    with city.page.expect_navigation():
        city.page.select_option("select[name=period]", "week")
    assert "period=week" in city.page.url
    assert not city.dialogs


def test_a_hostile_area_name_is_shown_as_text_on_the_map_and_in_the_charts(
    make_page: Any, tree: Any, personas: Any
) -> None:
    _shapes(tree)
    tree.town.name = HOSTILE
    tree.town.save(update_fields=["name"])
    from wangge.demands.models import Category

    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    assert category is not None
    category.name = HOSTILE
    category.save(update_fields=["name"])
    make_demand(grid=tree.grid, title="路灯不亮", category=category)
    services.rollup_refresh_recent()
    city = Watched(make_page("desk"))
    login(city.page, personas[Role.CITY_ADMIN])
    city.visit(reverse("dashboards:dashboard") + "?period=30d", ready="#map[data-ready='1']")
    labels = city.page.locator(".map-label")
    texts = labels.all_text_contents()
    assert any(HOSTILE in t for t in texts), texts  # the name, as typed, as text
    assert city.page.locator(".map-label img, .leaflet-tooltip img").count() == 0  # no element was made of it
    city.page.locator(".leaflet-interactive").first.hover()
    # The categories chart's tooltip is HTML too: show it for the hostile category and read it back.
    tip = city.page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById("chart-categories"));
          chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: 0 });
          const box = document.querySelector("#chart-categories > div:last-child");
          return { text: box.textContent, images: box.querySelectorAll("img").length };
        }"""
    )
    assert HOSTILE in tip["text"] and tip["images"] == 0, tip
    city.page.wait_for_timeout(300)
    assert not city.dialogs and not city.page.evaluate("window.__csp") and not city.problems
