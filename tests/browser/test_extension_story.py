"""延期, end to end: the grid leader holding a demand asks on the phone for more time, the party branch above
finds it under 待审批 on its landing page and approves it on the demand's page; the new deadline shows on the
demand page and in the timeline, and the resident's tracking page shows the new date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.models import DemandRequest, RequestState, State
from wangge.demands.testing import make_demand
from wangge.holidays.workdays import is_workday

pytestmark = pytest.mark.browser


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_an_extension_asked_approved_and_told(make_page: Any, live_server: Any, tree: Any, personas: Any) -> None:
    demand = make_demand(grid=tree.grid, title="变压器烧坏", description="整栋楼停电，变压器需要更换")
    demand = services.demand_accept(demand=demand, actor=personas[Role.GRID_LEADER])
    assert demand.resolve_due_at is not None
    new_day = demand.resolve_due_at.date() + dt.timedelta(days=14)
    while not is_workday(new_day):
        new_day += dt.timedelta(days=1)
    new_deadline = f"{new_day.isoformat()} 17:30"

    # 1. The grid leader, on the phone, asks for more time with a reason and a new date.
    leader = make_page("phone")
    login(leader, personas[Role.GRID_LEADER])
    leader.goto(reverse("demands:detail", args=[demand.pk]))
    box = leader.locator("[data-testid=move-extend]")
    box.locator("summary").click()
    box.locator("[name=extend-reason]").fill("变压器需向厂家订货，到货约两周")
    box.locator("[name=extend-until]").fill(new_day.isoformat())
    submit(leader, "[data-testid=move-extend] button[type=submit]")
    assert leader.locator("[data-testid=pending-request]").count() == 1
    assert new_deadline in leader.locator("[data-testid=pending-until]").inner_text()
    assert leader.locator("[data-testid=decide]").count() == 0  # the holder does not decide its own request
    screenshot(leader, "extension-requested")

    # 2. The branch sees it waiting under 待审批 on its landing page and approves it on the demand's page.
    branch = make_page("desk")
    login(branch, personas[Role.BRANCH])
    branch.goto(reverse("core:home"))
    to_decide = branch.locator("[data-testid=to-decide]")
    assert to_decide.locator(".num").inner_text() == "1"
    submit(branch, "[data-testid=to-decide] a")
    row = branch.locator(f"[data-testid=request][data-code='{demand.code}']")
    assert "变压器需向厂家订货" in row.inner_text()
    submit(branch, f"[data-testid=request][data-code='{demand.code}'] a.code")
    assert branch.locator("[data-testid=pending-request]").get_attribute("data-kind") == "extension"
    screenshot(branch, "extension-decide")
    submit(branch, "[data-testid=approve]")
    assert branch.locator("[data-testid=pending-request]").count() == 0
    assert DemandRequest.objects.get(demand=demand).state == RequestState.APPROVED

    # 3. The new deadline is on the demand page and in the timeline.
    leader.goto(reverse("demands:detail", args=[demand.pk]))
    assert new_deadline in leader.locator("[data-testid=facts]").inner_text()
    assert leader.locator("[data-testid=extensions]").inner_text() == "1"
    approved = leader.locator("[data-testid=timeline] li[data-action=extend_approve]")
    assert approved.count() == 1 and new_deadline in approved.inner_text()
    assert leader.locator("[data-testid=timeline] li[data-action=extend]").count() == 1
    assert leader.locator("[data-testid=state]").get_attribute("data-state") == State.IN_PROGRESS

    # 4. The resident's tracking page shows the new date, and why the timeline moved.
    resident = make_page("phone")
    resident.goto(reverse("demands:track", args=[demand.tracking_token]))
    page = resident.locator("main").inner_text()
    assert new_deadline in page
    public = resident.locator("[data-testid=timeline] li[data-action=extend_approve]")
    assert public.count() == 1 and new_deadline in public.inner_text()
    assert resident.locator("[data-testid=timeline] li[data-action=extend]").count() == 0  # the request is internal
    screenshot(resident, "extension-track")
