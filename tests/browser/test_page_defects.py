"""Defects found by trying the pages as a new user would, each pinned by what a person sees.

Phones here are the narrow ones grid leaders and village staff carry (360 and 390 px wide): a page
that is wider than the screen scrolls sideways and hides its last column or button.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login
from wangge.accounts.models import Role

pytestmark = pytest.mark.browser


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_visit_log_filters_wrap_inside_a_390_px_phone(make_page: Any, personas: Any) -> None:
    page = make_page("phone", viewport={"width": 390, "height": 800})
    login(page, personas[Role.VILLAGE])
    page.goto(reverse("visits:list"))
    box = page.locator("form.filters").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    assert _page_width(page) <= 390


def test_qr_sheet_fits_a_phone_screen(phone_page: Any, tree: Any, personas: Any) -> None:
    login(phone_page, personas[Role.VILLAGE])
    phone_page.goto(reverse("demands:grid_qr_sheet", args=[tree.branch.pk]))
    sheets = phone_page.locator("[data-testid=qr-sheet]")
    assert sheets.count() == 2  # the branch's two micro-grids
    box = sheets.first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360, box
    assert _page_width(phone_page) <= 360


def test_parking_what_if_prefills_dates_the_date_input_accepts_and_runs(desk_page: Any, personas: Any) -> None:
    login(desk_page, personas[Role.CITY_ADMIN])
    desk_page.goto(reverse("parking:whatif"))
    start = desk_page.locator("input[name=start]")
    # Chromium's date input keeps only an ISO value; a localised 2026/11/01 would leave it empty.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", start.input_value()), start.input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", desk_page.locator("input[name=end]").input_value())
    with desk_page.expect_navigation():
        desk_page.click("[data-testid=whatif-run]")
    assert desk_page.locator("[data-testid=whatif-result]").count() == 1, desk_page.content()[:1500]


def test_report_and_ranking_headers_say_previous_period_and_rank(desk_page: Any, personas: Any) -> None:
    login(desk_page, personas[Role.CITY_ADMIN])
    desk_page.goto(reverse("dashboards:report"))
    headers = desk_page.locator("table thead th").all_inner_texts()
    assert "上期" in headers and "上一页" not in headers, headers
    desk_page.goto(reverse("dashboards:ranking"))
    ranking_headers = desk_page.locator("[data-testid=ranking] thead th").all_inner_texts()
    assert ranking_headers[0] == "名次", ranking_headers


def test_pages_have_an_icon_and_ask_for_nothing_missing(desk_page: Any, personas: Any) -> None:
    missing: list[str] = []
    desk_page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    login(desk_page, personas[Role.TOWN])
    desk_page.goto("/")
    icon = desk_page.locator("link[rel=icon]").get_attribute("href")
    assert icon and desk_page.request.get(icon).status == 200
    desk_page.wait_for_load_state("networkidle")
    assert missing == []
