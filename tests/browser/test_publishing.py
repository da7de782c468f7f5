"""Issue 12, part 5: what the public sees. A resident reports with their name, phone and house number in the
words and does not tick 同意公开; the keyless Open311 feed shows only the kind of problem and the village
and road. Town staff open 公开审核 from the console, find the words prefilled without the personal data and
publish them in one click; the feed then shows exactly that text.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.models import Demand

pytestmark = pytest.mark.browser

WORDS = "我叫赵铁柱，电话13877776666，金沙北路128号3栋楼下的井盖丢了，晚上很危险"
PERSONAL = ("赵铁柱", "13877776666", "128号", "3栋")


def test_a_moderator_publishes_the_redacted_words_in_one_click(
    phone_page: Any, desk_page: Any, tree: Any, personas: Any, live_server: Any
) -> None:
    page = phone_page
    page.goto(reverse("demands:report") + f"?grid={tree.grid.code}")
    consent = page.locator("[data-testid=publish-consent]")
    assert consent.count() == 1 and not consent.is_checked()
    assert "同意公开我的诉求内容（不含姓名、电话和门牌号）" in page.content()
    page.fill("textarea[name=description]", WORDS)
    page.fill("input[name=address]", "金沙北路128号3栋")
    page.fill("input[name=phone]", "13877776666")
    page.fill("input[name=name]", "赵铁柱")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    demand = Demand.objects.get()
    assert demand.publish_consent is False

    def feed() -> dict[str, Any]:
        resp = page.request.get(f"{live_server.url}/open311/v2/requests/{demand.code}.json")
        assert resp.status == 200
        (row,) = resp.json()
        return dict(row)

    before = feed()
    assert before["description"].startswith("反映了一件") and before["address"] == "金沙北路，金沙社区，集里街道"
    for marker in (*PERSONAL, "井盖"):
        assert marker not in str(before)

    desk = desk_page
    login(desk, personas[Role.TOWN])
    desk.goto(reverse("dashboards:console"))
    with desk.expect_navigation():
        desk.click("[data-testid=console-publishing]")
    row = desk.locator(f"[data-testid=moderation-row][data-code='{demand.code}']")
    proposed = row.locator("[data-testid=public-text]").input_value()
    assert "井盖丢了" in proposed and not any(marker in proposed for marker in PERSONAL)
    screenshot(desk, "publishing-queue")
    with desk.expect_navigation():
        row.locator("[data-testid=approve]").click()
    assert "已批准公开" in desk.content()
    assert desk.locator(f"[data-testid=moderation-row][data-code='{demand.code}']").count() == 0  # decided

    after = feed()
    assert after["description"] == proposed
    for marker in PERSONAL:
        assert marker not in str(after)
