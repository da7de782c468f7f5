"""A disclosure item published, updated, and then flagged when its next update is overdue.

The live server runs in this process, so time-machine moves its clock too. On 2 March 2026 the
village clerk publishes the monthly financial statement; on 25 March she publishes the update
(on time); the clock then moves to 1 May, past the next due date (24 April), and the sweep runs.
The staff catalogue flags the item; the public page shows the current content and its history.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.notifications.models import OutboxMessage
from wangge.opengov.demo import seed_domains
from wangge.opengov.models import DisclosureDomain, DisclosureItem

pytestmark = pytest.mark.browser
SH = ZoneInfo("Asia/Shanghai")
MARCH_2 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _session_cookie_without_expiry(settings: Any) -> None:
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True


def test_a_published_item_is_flagged_when_overdue_and_keeps_its_history_in_public(
    desk_page: Any, phone_page: Any, tree: Any, personas: Any
) -> None:
    seed_domains()
    finance = DisclosureDomain.objects.get(name="财政预决算")
    clerk = personas[Role.VILLAGE]
    page = desk_page
    with time_machine.travel(MARCH_2, tick=True) as clock:
        login(page, clerk)
        page.goto(reverse("opengov:catalogue"))
        page.click('[data-testid="new-item"]')
        page.select_option('select[name="area"]', str(tree.village.pk))
        page.select_option('select[name="domain"]', str(finance.pk))
        page.select_option('select[name="frequency_days"]', "30")
        page.fill('input[name="title"]', "金沙社区财务收支月报")
        page.fill('input[name="responsible_unit"]', "社区居务监督委员会")
        page.fill('textarea[name="content"]', "2月收入 8.2 万元，支出 6.9 万元。")
        with page.expect_navigation():
            page.click('[data-testid="save"]')
        assert page.locator('[data-testid="item-state"]').get_attribute("data-state") == "draft"
        with page.expect_navigation():
            page.click('[data-testid="publish"]')
        assert page.locator('[data-testid="item-state"]').get_attribute("data-state") == "published"
        item = DisclosureItem.objects.get()

        clock.move_to(dt.datetime(2026, 3, 25, 9, 0, tzinfo=SH))
        login(page, clerk)  # three weeks later: a new session
        page.goto(reverse("opengov:item", kwargs={"pk": item.pk}))
        page.fill('textarea[name="content"]', "3月收入 9.1 万元，支出 7.4 万元。")
        with page.expect_navigation():
            page.click('[data-testid="publish"]')
        assert page.locator('[data-testid="versions"] tbody tr').count() == 2

        # Past the next due date (25 March + 30 days = 24 April): the sweep flags it, once.
        clock.move_to(dt.datetime(2026, 5, 1, 9, 0, tzinfo=SH))
        out = io.StringIO()
        call_command("opengov_sweep", stdout=out)
        call_command("opengov_sweep", stdout=out)
        assert OutboxMessage.objects.filter(kind="opengov.overdue").count() == 1

        login(page, clerk)
        page.goto(reverse("opengov:catalogue"))
        assert page.locator(f'[data-testid="overdue-{item.pk}"]').count() == 1
        assert page.locator('[data-testid="overdue-total"]').count() == 1
        screenshot(page, "opengov-catalogue")
        page.goto(reverse("opengov:item", kwargs={"pk": item.pk}))
        assert page.locator('[data-testid="overdue"]').count() == 1
        screenshot(page, "opengov-item")

        # The public, on a phone without an account: the current content, when, and the history.
        phone_page.goto(reverse("opengov:public"))
        phone_page.click(f"text={tree.town.name}")
        phone_page.click(f"text={tree.village.name}")
        phone_page.click("text=金沙社区财务收支月报")
        assert "3月收入 9.1 万元" in phone_page.locator('[data-testid="public-content"]').inner_text()
        assert phone_page.locator('[data-testid="published-at"]').inner_text().startswith("2026-03-25")
        history = phone_page.locator('[data-testid="history"] details[data-version="1"]')
        history.locator("summary").click()
        assert "2月收入 8.2 万元" in history.inner_text()
        assert str(clerk) not in phone_page.content()
        screenshot(phone_page, "opengov-public-item")
        phone_page.goto(reverse("opengov:stats"))
        assert phone_page.locator('[data-testid="up-to-date"]').inner_text() == "0.0%"
        screenshot(phone_page, "opengov-stats")
