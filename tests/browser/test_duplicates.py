"""Issue 7, "Done when": a resident reporting the same problem as an open demand nearby is offered to follow it.

On a phone, a resident scans the QR code of the grid next door and describes the street light a
neighbour already reported; before anything is filed the page shows that demand (code, title, state)
and offers to follow it. The resident follows it, lands on a tracking page of their own, and when the
grid leader resolves the demand, sees it resolved there (and was told by SMS).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import screenshot
from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.forms import make_title
from wangge.demands.models import Demand, DemandFollower, State
from wangge.demands.testing import make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser

NEIGHBOUR_WORDS = "文化广场路灯不亮，晚上一片漆黑，老人散步很危险。"
MY_WORDS = "文化广场的路灯不亮，晚上一片漆黑，请派人修一下。"
MY_PHONE = "13912345678"


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_resident_follows_the_same_problem_instead_of_filing_it_again(
    phone_page: Any, tree: Any, personas: Any, live_server: Any, settings: Any
) -> None:
    settings.WANGGE_PUBLIC_BASE_URL = live_server.url  # the private link shown is built on the public address
    first = make_demand(
        grid=tree.grid,
        title=make_title(NEIGHBOUR_WORDS),
        description=NEIGHBOUR_WORDS,
        reporter_name="赵六",
        reporter_phone="13900000001",
    )

    # The resident reports from the grid next door, in the same community.
    page = phone_page
    page.goto(reverse("demands:report") + f"?grid={tree.sibling_grid.code}")
    page.fill("textarea[name=description]", MY_WORDS)
    page.fill("input[name=phone]", MY_PHONE)
    page.fill("input[name=name]", "王阿姨")
    with page.expect_navigation():
        page.click("[data-testid=submit]")

    # Nothing is filed yet: the neighbour's demand is offered, without anything personal of theirs.
    panel = page.locator("[data-testid=duplicates]")
    assert "已有居民反映过相同问题" in panel.inner_text()
    offer = panel.locator("[data-testid=offer]")
    assert offer.count() == 1 and offer.get_attribute("data-code") == first.code
    assert "赵六" not in page.content() and "13900000001" not in page.content() and "****" not in panel.inner_text()
    assert page.input_value("textarea[name=description]") == MY_WORDS  # what was typed is kept
    assert Demand.objects.count() == 1
    assert fits_the_phone(page)
    screenshot(page, "report-duplicates")

    # Follow it: the resident lands on a tracking page of their own.
    with page.expect_navigation():
        offer.locator("[data-testid=follow]").click()
    follower = DemandFollower.objects.get()
    assert follower.demand == first and follower.phone == MY_PHONE and Demand.objects.count() == 1
    assert page.url.endswith(reverse("demands:follow_track", args=[follower.token]) + "?new=1")
    assert page.locator("[data-testid=followed]").count() == 1
    assert page.locator("[data-testid=code]").inner_text() == first.code
    assert page.locator("[data-testid=state]").get_attribute("data-state") == State.SUBMITTED
    assert page.locator("[data-testid=rate]").count() == 0  # the reporter rates, not the followers
    track_url = page.locator("[data-testid=track-link]").get_attribute("href")
    assert fits_the_phone(page)
    screenshot(page, "follow-track")

    # Later: the grid leader resolves the neighbour's demand; the follower is told and sees it.
    services.demand_accept(demand=first, actor=personas[Role.GRID_LEADER])
    services.demand_resolve(demand=first, actor=personas[Role.GRID_LEADER], result="已更换文化广场的路灯灯泡")
    told = OutboxMessage.objects.filter(recipient=MY_PHONE, kind="demand.follower.resolved")
    assert told.count() == 1 and first.code in told.get().body
    page.goto(track_url)
    assert page.locator("[data-testid=state]").get_attribute("data-state") == State.RESOLVED
    assert "已更换文化广场的路灯灯泡" in page.locator("[data-testid=resolution]").inner_text()
    actions = page.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert actions[0] == "submit" and "resolve" in actions and "follow" not in actions
    assert "赵六" not in page.content() and "13900000001" not in page.content()
    screenshot(page, "follow-track-resolved")
