"""Logging a visit from the workbench on a phone, with an opinion and a demand raised in the same step."""

from __future__ import annotations

import importlib
import io
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.models import Demand
from wangge.registry.testing import make_household
from wangge.visits.models import Opinion, Visit

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def catalogue(db: Any) -> None:
    """The default categories: an earlier live-server test flushes every table, data migrations too."""
    from django.apps import apps

    importlib.import_module("wangge.demands.migrations.0002_default_categories").load(apps, None)


def jpeg(color: str) -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, format="JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def test_logging_a_visit_that_raises_a_demand(make_page: Any, tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    grandma = make_household(
        grid=tree.grid, head_name="刘奶奶", address="金沙路8号", phone="13800138000", care_tags=["elderly_alone"]
    )
    make_household(grid=tree.grid, head_name="陈叔", address="金沙路10号")

    page = make_page("phone")
    login(page, leader)
    # From the workbench: the household's "log a visit" button, then a few taps.
    with page.expect_navigation():
        page.click(f"[data-testid=log-visit-{grandma.pk}]")
    assert "刘奶奶" in page.locator("[data-testid=visit-household]").inner_text()
    page.click("[data-testid=how-in_person]")
    page.fill("textarea[name=notes]", "入户看望，老人独居，身体尚可")
    page.click("[data-testid=opinion] summary")
    page.fill("textarea[name=opinion_text]", "希望村里办个老年食堂")
    page.select_option("select[name=opinion_category]", "livelihood")
    page.click("[data-testid=demand] summary")
    page.fill("textarea[name=demand_description]", "屋后排水沟堵塞，下雨时积水进屋")
    page.select_option("select[name=demand_category]", "0401")
    page.set_input_files("input[name=demand_photos]", jpeg("slategray"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "visit-form")
    with page.expect_navigation():
        page.click("[data-testid=visit-submit]")

    assert page.url.endswith(reverse("visits:workbench"))
    visit = Visit.objects.get()
    demand = Demand.objects.get()
    assert visit.household == grandma and visit.demand == demand and visit.how == "in_person"
    assert demand.channel == "visit" and demand.household == grandma and demand.area == tree.grid
    assert demand.photos.count() == 1 and demand.reporter_phone == "13800138000"
    assert Opinion.objects.get().text == "希望村里办个老年食堂"
    assert demand.code in page.locator("main").inner_text()  # "visit logged; demand … filed"
    # The new demand waits on the workbench, and the household went to the end of the list.
    assert page.locator(f"#demand-{demand.pk}").count() == 1
    assert page.locator("[data-testid=household] strong").all_inner_texts()[-1] == "刘奶奶"

    desk = make_page("desk")
    login(desk, leader)
    desk.goto(reverse("visits:new") + f"?household={grandma.pk}")
    desk.click("[data-testid=opinion] summary")
    desk.click("[data-testid=demand] summary")
    screenshot(desk, "visit-form")


def test_a_demand_without_words_is_refused_and_nothing_is_logged(phone_page: Any, tree: Any, personas: Any) -> None:
    household = make_household(grid=tree.grid, head_name="孙大哥")
    login(phone_page, personas[Role.GRID_LEADER])
    phone_page.goto(reverse("visits:new") + f"?household={household.pk}")
    phone_page.fill("textarea[name=notes]", "电话联系")
    phone_page.click("[data-testid=demand] summary")
    phone_page.check("input[name=raise_demand]")
    with phone_page.expect_navigation():
        phone_page.click("[data-testid=visit-submit]")
    assert "不能为空" in phone_page.locator("[data-testid=error-demand_description]").inner_text()
    assert phone_page.input_value("textarea[name=notes]") == "电话联系"
    assert not Visit.objects.exists() and not Demand.objects.exists()
