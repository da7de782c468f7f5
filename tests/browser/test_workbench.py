"""The grid leader's workbench on a phone: take the order with one tap, resolve with a camera photo.

Issue 4, "Done when": the grid leader accepting and resolving from the workbench, in a real
browser at 360 px, with the countdown ticking and turning red past the limit.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.core import clock
from wangge.demands.models import Demand, DemandPhoto, State
from wangge.demands.testing import make_demand
from wangge.registry.testing import make_household
from wangge.visits.testing import make_visit

pytestmark = pytest.mark.browser


def jpeg(color: str) -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buf, format="JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def fits_the_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def households(tree: Any, leader: Any) -> None:
    make_household(grid=tree.grid, head_name="李奶奶", address="金沙路3号", care_tags=["elderly_alone"])
    make_household(grid=tree.grid, head_name="王小明家", address="金沙路5号", care_tags=["left_behind_child"])
    visited = make_household(
        grid=tree.grid, head_name="赵师傅", address="金沙路9号", care_tags=["disabled", "low_income"]
    )
    make_visit(visitor=leader, household=visited, visited_at=clock.now() - dt.timedelta(days=40))


def test_grid_leader_accepts_and_resolves_from_the_workbench(make_page: Any, tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    households(tree, leader)
    demand = make_demand(grid=tree.grid, title="路灯不亮，晚上出行不便", urgency="urgent", address="金沙路口")
    late = make_demand(grid=tree.grid, title="化粪池满溢", address="金沙路11号")
    # Set up one already past its limit to accept (as if the grid leader had been away).
    Demand.objects.filter(pk=late.pk).update(accept_due_at=clock.now() - dt.timedelta(minutes=20))

    page = make_page("phone")
    login(page, leader)
    assert page.url.endswith(reverse("visits:workbench"))
    card = page.locator(f"#demand-{demand.pk}")
    assert "路灯不亮" in card.inner_text()
    assert (
        "left" in card.locator("[data-testid=due]").inner_text()
        or "剩" in card.locator("[data-testid=due]").inner_text()
    )
    assert "late" in (page.locator(f"#demand-{late.pk} [data-testid=due]").get_attribute("class") or "")
    # Never visited first, then the oldest visit.
    names = page.locator("[data-testid=household] strong").all_inner_texts()
    assert names[-1] == "赵师傅" and set(names[:2]) == {"李奶奶", "王小明家"}
    assert fits_the_phone(page)
    screenshot(page, "workbench")

    # The countdown runs in the page: a limit five seconds away turns red by itself.
    due = card.locator("[data-testid=due]")
    due.evaluate("el => el.setAttribute('data-due', new Date(Date.now() + 3000).toISOString())")
    # A function, not an expression string: Playwright evaluates a string with eval, which the page's CSP refuses.
    page.wait_for_function(
        "id => document.querySelector(`#demand-${id} [data-testid=due]`).classList.contains('late')",
        arg=demand.pk,
        timeout=10_000,
    )

    # One tap takes the order; the card turns into an in-progress card in place (htmx).
    card.locator("[data-testid=accept] button").click()
    page.wait_for_selector(f"#demand-{demand.pk}[data-state=in_progress]")
    demand.refresh_from_db()
    assert demand.state == State.IN_PROGRESS and demand.holder_user == leader

    # Resolve with a note and a photo from the camera input.
    card = page.locator(f"#demand-{demand.pk}")
    card.locator("[data-testid=resolve] summary").click()
    file_input = card.locator("input[name=photos]")
    assert file_input.get_attribute("capture") == "environment" and file_input.get_attribute("accept") == "image/*"
    card.locator("textarea[name=result]").fill("已更换灯泡，路灯恢复照明")
    file_input.set_input_files(jpeg("gold"))
    card.locator("[data-testid=resolve] button[type=submit]").click()
    page.wait_for_selector(f"#demand-{demand.pk}[data-state=resolved] [data-testid=card-done]")
    demand.refresh_from_db()
    assert demand.state == State.RESOLVED and demand.resolution == "已更换灯泡，路灯恢复照明"
    assert DemandPhoto.objects.filter(demand=demand, event__action="resolve").count() == 1
    assert fits_the_phone(page)

    desk = make_page("desk")
    login(desk, leader)
    screenshot(desk, "workbench")


def test_escalate_from_the_workbench_with_a_reason(phone_page: Any, tree: Any, personas: Any) -> None:
    leader = personas[Role.GRID_LEADER]
    demand = make_demand(grid=tree.grid, title="邻里因占道堆物发生争执")
    login(phone_page, leader)
    card = phone_page.locator(f"#demand-{demand.pk}")
    card.locator("[data-testid=accept] button").click()
    phone_page.wait_for_selector(f"#demand-{demand.pk}[data-state=in_progress]")
    card.locator("[data-testid=escalate] summary").click()
    card.locator("textarea[name=reason]").fill("双方各执一词，需要支部出面调解")
    card.locator("[data-testid=escalate] button[type=submit]").click()
    phone_page.wait_for_selector(f"#demand-{demand.pk}[data-state=escalated] [data-testid=card-done]")
    demand.refresh_from_db()
    assert demand.state == State.ESCALATED and demand.holder_area == tree.branch
