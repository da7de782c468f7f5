"""Issue 14, "Done when": a paraphrase 40 m from an open demand is offered to the resident and to staff.

On a phone, a resident scans the grid's QR code, lets the page read where they stand and describes,
in words of their own, the manhole cover a neighbour reported 40 m away. Before anything is filed the
page offers that demand with its public place and how far it is. The resident still files theirs; the
grid leader, at a desk, finds the neighbour's demand in the possible-duplicates panel of the new one
and merges it in one click, and the resident becomes a follower of the first demand.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.forms import make_title
from wangge.demands.models import Demand, DemandFollower, State
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.browser

OPEN_DEMAND = "龙湖小区东门的井盖不见了，晚上很危险"
PARAPHRASE = "东门那个井盖丢了，路过容易踩空"
LAT, LNG = 28.2000, 112.9000
NORTH_40M = 40 / 111_195
MY_PHONE = "13912345678"


def test_the_paraphrase_is_offered_to_the_resident_and_to_staff(
    make_page: Any, tree: Any, personas: Any, live_server: Any, settings: Any
) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = live_server.url
    first = make_demand(
        grid=tree.grid,
        title=make_title(OPEN_DEMAND),
        description=OPEN_DEMAND,
        lat=LAT + NORTH_40M,
        lng=LNG,
        address="龙湖路88号龙湖小区东门",
        reporter_name="赵六",
        reporter_phone="13900000001",
    )
    other = make_demand(grid=tree.grid, title="东门路灯不亮", description="龙湖小区东门路灯不亮，晚上很危险")

    # The resident, on a phone, 40 m south of the neighbour's report.
    page = make_page("phone", geolocation={"latitude": LAT, "longitude": LNG}, permissions=["geolocation"])
    page.goto(reverse("demands:report") + f"?grid={tree.grid.code}")
    page.click("[data-testid=locate]")
    page.wait_for_function("document.querySelector('#lat').value !== ''")
    assert page.locator("[data-testid=locate-status]").inner_text() == "已获取位置"
    page.fill("textarea[name=description]", PARAPHRASE)
    page.fill("input[name=phone]", MY_PHONE)
    page.fill("input[name=name]", "王阿姨")
    with page.expect_navigation():
        page.click("[data-testid=submit]")

    panel = page.locator("[data-testid=duplicates]")
    offer = panel.locator("[data-testid=offer]")
    assert offer.count() == 1 and offer.get_attribute("data-code") == first.code  # not the street light
    place = offer.locator("[data-testid=offer-place]").inner_text()
    assert tree.village.name in place and "龙湖路" in place and "88" not in place
    assert offer.locator("[data-testid=offer-distance]").inner_text() == "相距 100 米以内"
    assert "赵六" not in page.content() and "13900000001" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
    screenshot(page, "report-paraphrase-offer")
    with page.expect_navigation():
        panel.locator("[data-testid=add-anyway]").click()
    mine = Demand.objects.exclude(pk__in=[first.pk, other.pk]).get()
    assert mine.description == PARAPHRASE and mine.lat == pytest.approx(LAT)

    # The grid leader, at a desk, sees the neighbour's demand as a possible duplicate of the new one.
    desk = make_page("desk")
    login(desk, personas[Role.GRID_LEADER])
    desk.goto(reverse("demands:detail", args=[mine.pk]))
    staff_panel = desk.locator("[data-testid=duplicates]")
    assert "疑似重复诉求" in staff_panel.inner_text()
    item = staff_panel.locator("[data-testid=duplicate]")
    assert item.count() == 1 and item.get_attribute("data-code") == first.code
    assert "相距约 40 米" in item.inner_text()
    screenshot(desk, "detail-paraphrase-duplicates")
    with desk.expect_navigation():
        item.locator("[data-testid=merge-into] button").click()
    mine.refresh_from_db()
    assert mine.state == State.MERGED and mine.merged_into == first
    assert DemandFollower.objects.filter(demand=first, phone=MY_PHONE).exists()
