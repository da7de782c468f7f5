"""A car's stay charged by a tiered tariff on the warden's phone, then counted in the lot's turnover.

The live server runs in this process, so time-machine moves its clock too: the car enters at 09:40
on a working Monday and leaves at 12:10, two and a half hours under the standard tariff (15 free
minutes, the first hour ¥2 in half-hour units, hours 2–3 ¥3 an hour): ¥2 + 2 × ¥3 = ¥8.00.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.parking import services
from wangge.parking.models import LotKind, ParkingSession, SessionState, Zone
from wangge.parking.testing import make_lot

pytestmark = pytest.mark.browser
SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 6, 1)


def at(hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(MONDAY.year, MONDAY.month, MONDAY.day, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def _session_cookie_without_expiry(settings: Any) -> None:
    # The test clock is behind the browser's own clock: a cookie expiring two weeks after the
    # test clock would already have expired for Chromium.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True


def _morning(lot: Any) -> None:
    """Three stays before the warden's car: two have left, one is still parked."""
    for n, (plate, start, end) in enumerate(
        [("湘A6M2Q8", at(7, 5), at(8, 10)), ("湘AD30417", at(8, 0), at(9, 30)), ("湘F5K8N1", at(8, 40), None)]
    ):
        services.parking_entry(lot=lot, plate=plate, at=start, source="gate", event_id=f"m{n}")
        if end is not None:
            services.parking_exit(lot=lot, plate=plate, at=end, source="gate", event_id=f"m{n}-out")


def test_a_stay_is_charged_by_the_tiered_tariff_on_the_phone_and_counted_in_turnover(
    phone_page: Any, desk_page: Any, tree: Any, personas: Any
) -> None:
    lot = make_lot(
        area=tree.village,
        name="金沙路路内泊位",
        kind=LotKind.ON_STREET,
        zone=Zone.PEAK,
        capacity=4,
        operator=tree.department,
    )
    warden = personas[Role.VILLAGE]
    with time_machine.travel(at(9, 35), tick=True) as clock:
        _morning(lot)
        # Before: 3 stays begun today on 4 spaces.
        login(desk_page, personas[Role.TOWN])
        desk_page.goto(reverse("parking:lots"))
        row = desk_page.locator(f'[data-lot="{lot.pk}"]')
        assert row.locator('[data-testid="turnover"]').inner_text().startswith("0.75")
        assert row.locator('[data-testid="occupied"]').inner_text().startswith("1/4")

        # The warden records the car arriving, on the phone.
        page = phone_page
        clock.move_to(at(9, 40))
        login(page, warden)
        page.goto(reverse("parking:warden"))
        page.select_option("select[name=lot]", str(lot.pk))
        page.fill('[data-testid="plate-input"]', "湘a 12345")
        page.click('[data-testid="entry"]')
        assert "湘A12345" in page.locator('[data-testid="entry-ok"]').inner_text()

        # Two and a half hours later the car leaves; the fee is shown with its reasons.
        clock.move_to(at(12, 10))
        page.fill('[data-testid="plate-input"]', "湘A12345")
        page.click('[data-testid="exit"]')
        assert page.locator('[data-testid="fee-total"]').inner_text() == "¥8.00"
        lines = page.locator('[data-testid="fee-lines"] li').all_inner_texts()
        assert lines == [
            "免费时长 15 分钟（停车超过 15 分钟，自入场起计费）",
            "第 1 小时 2.00 元（每 30 分钟 1.00 元 × 2）",
            "第 2–3 小时 6.00 元（每 60 分钟 3.00 元 × 2）",
            "合计 8.00 元",
        ]
        screenshot(page, "parking-warden")
        stay = ParkingSession.objects.get(plate="湘A12345")
        assert (stay.state, stay.fee_fen, stay.minutes, stay.source) == (SessionState.CLOSED, 800, 150, "warden")

        # After: 4 stays on 4 spaces, a turnover of 1.0, and the stay on the lot's page with its fee.
        desk_page.goto(reverse("parking:lots"))
        row = desk_page.locator(f'[data-lot="{lot.pk}"]')
        assert row.locator('[data-testid="turnover"]').inner_text().startswith("1.0")
        desk_page.goto(reverse("parking:lot", args=[lot.pk]))
        assert desk_page.locator('[data-testid="lot-name"]').inner_text() == "金沙路路内泊位"
        session_row = desk_page.locator('[data-testid="sessions"] tr', has_text="湘A12345")
        assert "8.00" in session_row.inner_text()
        desk_page.wait_for_selector('#occupancy-chart[data-ready="1"] svg')
        desk_page.wait_for_selector('#daily-chart[data-ready="1"] svg')
        screenshot(desk_page, "parking-lot")

        # The other widths of both pages, for the docs.
        page.goto(reverse("parking:lot", args=[lot.pk]))
        page.wait_for_selector('#occupancy-chart[data-ready="1"] svg')
        screenshot(page, "parking-lot")
        login(desk_page, warden)
        desk_page.goto(reverse("parking:warden"))
        desk_page.fill('[data-testid="plate-input"]', "湘AD30418")
        # count() does not wait: without waiting for the answer it may read the page before the POST.
        with desk_page.expect_navigation():
            desk_page.click('[data-testid="entry"]')
        assert desk_page.locator('[data-testid="entry-ok"]').count() == 1
        screenshot(desk_page, "parking-warden")
