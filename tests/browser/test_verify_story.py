"""核查, end to end: a safety hazard the branch resolves waits for the grid leader, who finds it in 待核查 on
a 375 px phone, sends it back once; the branch does it again, the grid leader confirms on site with a photo,
and only then does the resident's tracking page show it resolved and ask for a rating (one message)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands import services
from wangge.demands.models import Demand, State
from wangge.demands.testing import make_category, make_demand
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 375, "height": 667}}  # a cheap phone
RESIDENT = "13900005678"


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 60)).save(buf, format="JPEG")
    return buf.getvalue()


def fits(page: Any) -> bool:
    """Nothing is wider than the screen (no sideways scrolling on the phone)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def resolve_on_the_page(page: Any, demand: Demand, result: str) -> None:
    page.goto(reverse("demands:detail", args=[demand.pk]))
    page.click("[data-testid=move-resolve] summary")
    page.fill("textarea[name=resolve-result]", result)
    with page.expect_navigation():
        page.click("[data-testid=move-resolve] button[type=submit]")
    assert page.locator("[data-testid=state]").get_attribute("data-state") == State.VERIFYING


def test_a_safety_hazard_is_sent_back_once_then_verified_with_a_photo(
    make_page: Any, live_server: Any, tree: Any, personas: Any
) -> None:
    hazard = make_category(name="安全隐患", needs_verification=True)
    demand = make_demand(
        grid=tree.grid,
        category=hazard,
        title="护栏松动",
        description="桥边护栏松动，孩子容易掉下去",
        reporter_phone=RESIDENT,
    )
    demand = services.demand_escalate(demand=demand, actor=personas[Role.GRID_LEADER], reason="需要支部协调施工队")

    # 1. The branch (at a desk) resolves it: it waits for verification, the resident hears nothing yet.
    branch = make_page("desk")
    login(branch, personas[Role.BRANCH])
    resolve_on_the_page(branch, demand, "施工队已加固护栏")
    assert not OutboxMessage.objects.filter(recipient=RESIDENT, kind="demand.resident.resolved").exists()

    # 2. The grid leader's phone: the workbench links 待核查 with its count; the queue leads to the demand.
    phone = make_page("phone", **NARROW)
    login(phone, personas[Role.GRID_LEADER])
    link = phone.locator("[data-testid=verify-queue-link]")
    assert link.get_attribute("data-count") == "1"
    with phone.expect_navigation():
        link.click()
    row = phone.locator(f"[data-testid=verify-queue] li[data-code='{demand.code}']")
    assert "护栏松动" in row.inner_text()
    assert fits(phone)
    screenshot(phone, "verify-queue")
    with phone.expect_navigation():
        row.locator("[data-testid=verify-open]").click()
    panel = phone.locator("[data-testid=verify-panel]")
    assert "施工队已加固护栏" in panel.locator("[data-testid=verify-answer]").inner_text()
    photo_input = panel.locator("[data-testid=verify-photos]")
    assert (photo_input.get_attribute("accept"), photo_input.get_attribute("capture")) == ("image/*", "environment")
    assert fits(phone)
    screenshot(phone, "verify-panel")

    # 3. Still loose: he sends it back with the reason.
    panel.locator("[data-testid=move-verify_back] summary").click()
    phone.fill("textarea[name=verify_back-reason]", "护栏一端仍然松动，请重新固定")
    with phone.expect_navigation():
        phone.click("[data-testid=verify-back-submit]")
    assert phone.locator("[data-testid=state]").get_attribute("data-state") == State.IN_PROGRESS
    assert phone.locator("[data-testid=verify-panel]").count() == 0

    # 4. The branch reads why on its timeline and resolves again.
    branch.goto(reverse("demands:detail", args=[demand.pk]))
    assert "护栏一端仍然松动" in branch.locator("[data-testid=timeline] li[data-action=verify_back]").inner_text()
    resolve_on_the_page(branch, demand, "两端均已焊接固定")

    # 5. On site again, a first try without a photo is refused next to the field; with one it is verified.
    phone.goto(reverse("demands:verify_queue"))
    with phone.expect_navigation():
        phone.locator(f"li[data-code='{demand.code}'] [data-testid=verify-open]").click()
    phone.fill("textarea[name=verify-note]", "现场查看，护栏牢固")
    with phone.expect_navigation():
        phone.click("[data-testid=verify-submit]")
    assert phone.locator("[data-testid=error-photos]").count() == 1
    assert phone.locator("[data-testid=state]").get_attribute("data-state") == State.VERIFYING
    phone.set_input_files(
        "[data-testid=verify-photos]", files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    with phone.expect_navigation():
        phone.click("[data-testid=verify-submit]")
    assert phone.locator("[data-testid=state]").get_attribute("data-state") == State.RESOLVED
    verified = phone.locator("[data-testid=timeline] li[data-action=verify]")
    assert "现场查看，护栏牢固" in verified.inner_text() and verified.locator("img").count() == 1
    assert phone.locator("[data-testid=timeline] li[data-action=verify_back]").count() == 1
    assert fits(phone)
    screenshot(phone, "verified")

    # 6. The resident was told once, and the tracking page shows it resolved and asks for a rating.
    [told] = OutboxMessage.objects.filter(recipient=RESIDENT, kind="demand.resident.resolved")
    assert "两端均已焊接固定" in told.body
    resident = make_page("phone", **NARROW)
    resident.goto(reverse("demands:track", args=[Demand.objects.get(pk=demand.pk).tracking_token]))
    assert resident.locator("[data-testid=state]").get_attribute("data-state") == State.RESOLVED
    assert "两端均已焊接固定" in resident.locator("[data-testid=resolution]").inner_text()
    assert resident.locator("[data-testid=rate]").count() == 1
    screenshot(resident, "verified-track")
