"""Find my demand on a phone: report, lose the link, come back by code + phone + the SMS code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import screenshot
from wangge.demands.models import Demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser

RESIDENT_PHONE = "13912345678"


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_resident_finds_their_demand_again_with_an_sms_code(make_page: Any, live_server: Any, tree: Any) -> None:
    resident = make_page("phone")
    resident.goto(f"{reverse('demands:report')}?grid={tree.grid.code}")
    resident.fill("textarea[name=description]", "菜市场门口的下水道堵了，污水漫到路面上，请尽快疏通。")
    resident.fill("input[name=phone]", RESIDENT_PHONE)
    submit(resident, "[data-testid=submit]")
    code = resident.locator("[data-testid=code]").inner_text()
    demand = Demand.objects.get(code=code)

    # Later, on a fresh phone session without the private link: the footer of any resident page leads here.
    finder = make_page("phone")
    finder.goto(reverse("demands:report"))
    submit(finder, "[data-testid=lookup-link]")
    assert finder.url.endswith(reverse("demands:lookup"))
    finder.fill("input[name=code]", code.lower())
    finder.fill("input[name=phone]", RESIDENT_PHONE)
    submit(finder, "[data-testid=send]")
    assert finder.locator("[data-testid=sent]").is_visible()

    # The local SMS backend keeps what was sent: read the code the way the resident would on the phone.
    sms = OutboxMessage.objects.filter(kind="otp", recipient=RESIDENT_PHONE).latest("id")
    otp = re.search(r"验证码是 (\d{6})", sms.body)
    assert otp, sms.body
    finder.fill("input[name=otp]", otp.group(1))
    screenshot(finder, "lookup")
    assert finder.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    submit(finder, "[data-testid=verify]")

    assert finder.url.endswith(reverse("demands:track", args=[demand.tracking_token]))
    assert finder.locator("h2 .code").inner_text() == code
