"""A failed toilet inspection on the phone becomes a demand in the grid leader's queue (issue 6, "Done when").

The town's sanitation staff, director of a public toilet in 金沙1号微网格, opens the checklist on a
360 px phone, marks everything passed but the hand basin, writes what is wrong, takes a photo and
submits. The inspection page names the demand it raised; the grid leader finds that demand in their
queue on their own phone and opens it.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.models import Demand
from wangge.demands.selectors import my_queue
from wangge.facilities.models import DirectorLevel, Inspection
from wangge.facilities.testing import make_director, make_director_user, make_facility

pytestmark = pytest.mark.browser


def _photo() -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), "gray").save(buf, format="JPEG")
    return {"name": "basin.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def test_a_failed_toilet_inspection_becomes_a_demand_in_the_grid_leaders_queue(
    make_page: Any, tree: Any, personas: Any
) -> None:
    toilet = make_facility(area=tree.grid, name="金沙路公厕", code="GC-JS-001", department=tree.department)
    staff = make_director_user(facility=toilet, level=DirectorLevel.SANITATION_STAFF, name="周环卫")
    make_director(facility=toilet, level=DirectorLevel.CLEANER, name="李保洁", phone="13911112222")

    page = make_page("phone")
    login(page, staff.user)
    page.goto(reverse("facilities:list"))
    with page.expect_navigation():
        page.click(f"[data-testid=inspect-{toilet.code}]")
    # The checklist fits the phone: nothing wider than the 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("[data-all-pass]")
    basin = page.locator("[data-testid=item-handwash]")
    basin.locator("label.fail").click()
    note = basin.locator("input[name=note_handwash]")
    assert note.is_visible()  # the note and camera open only for a failed item
    assert not page.locator("[data-testid=item-floor] input[name=note_floor]").is_visible()
    note.fill("洗手设施损坏")
    camera = basin.locator("input[name=photo_handwash]")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("accept") == "image/*"
    camera.set_input_files(_photo())
    screenshot(page, "facilities-inspect")
    with page.expect_navigation():
        page.click("[data-testid=submit-inspection]")

    inspection = Inspection.objects.get()
    demand = Demand.objects.get()
    assert page.locator("[data-testid=inspection-result]").get_attribute("data-result") == "fail"
    assert page.locator("[data-testid=demand-handwash]").inner_text() == demand.code
    assert demand.title == "公厕「金沙路公厕」巡查不合格：洗手设施完好（洗手设施损坏）"
    assert demand.channel == "inspection" and demand.category.code == "0302"
    assert inspection.items.get(checklist_item__code="handwash").demand == demand
    assert inspection.items.get(checklist_item__code="handwash").photos.count() == 1
    assert demand.photos.count() == 1
    screenshot(page, "facilities-inspection")

    # The grid leader, on their phone, finds it in their queue and opens it.
    leader = personas[Role.GRID_LEADER]
    assert demand in my_queue(user=leader)
    leader_page = make_page("phone")
    login(leader_page, leader)
    leader_page.goto(reverse("demands:list"))
    queue = leader_page.locator("[data-testid=my-queue]")
    assert demand.code in queue.inner_text()
    with leader_page.expect_navigation():
        queue.locator(f"a:text('{demand.code}')").click()
    assert leader_page.locator("[data-testid=code]").inner_text() == demand.code
    assert "洗手设施损坏" in leader_page.content()
