"""A hot issue becomes a governance topic (每月一题), gets a public progress note, and the public page shows it.

Town staff open the hot issues at a desk: residents' reports of a dirty public toilet are one issue,
"3 位群众 · 2 条巡查记录" (the toilet's own failed inspections count apart). They make it a topic led
by a department, write the plan, activate it and add progress; a
resident without an account then opens /topics/ and reads the topic and its progress, with no one's
phone or the demands' words on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.browser
TOILET = "金沙公厕卫生差无人打扫"


def test_hot_issue_to_topic_to_public_page(desk_page: Any, phone_page: Any, tree: Any, personas: Any) -> None:
    for i in range(3):
        make_demand(grid=tree.grid, title=TOILET, description=TOILET + f"（{i}）", reporter_phone=f"1390000100{i}")
    for _i in range(2):
        make_demand(grid=tree.grid, channel="inspection", title=TOILET, description=TOILET, reporter_phone="")

    page = desk_page
    login(page, personas[Role.TOWN])
    page.goto(reverse("triage:hot"))
    issue = page.locator('[data-testid="hot-issue"]').first
    assert issue.locator('[data-testid="hot-people"]').inner_text().strip() == "3 位群众"
    assert issue.locator('[data-testid="hot-records"]').inner_text().strip() == "2 条巡查记录"
    issue.locator('[data-testid="make-topic"]').click()

    page.fill('input[name="title"]', "公厕卫生治理")
    page.fill('textarea[name="plan"]', "环卫所每日保洁两次，损坏设施一周内修复")
    page.select_option('select[name="area"]', str(tree.town.pk))
    page.select_option('select[name="department"]', str(tree.department.pk))
    page.click('[data-testid="create-topic"]')
    assert page.locator('[data-testid="topic-state"]').get_attribute("data-state") == "proposed"
    assert "3 位群众" in page.locator('[data-testid="topic-reach"]').inner_text()

    page.click('[data-testid="activate"]')
    assert page.locator('[data-testid="topic-state"]').get_attribute("data-state") == "active"
    page.fill('[data-testid="progress-form"] textarea[name="note"]', "金沙公厕已更换蹲位 6 个")
    page.click('[data-testid="add-progress"]')
    assert "金沙公厕已更换蹲位 6 个" in page.locator('[data-testid="progress"]').inner_text()
    screenshot(page, "topic-detail")

    phone_page.goto(reverse("governance:public"))
    public = phone_page.locator('[data-testid="public-topics"]').inner_text()
    assert "公厕卫生治理" in public and "金沙公厕已更换蹲位 6 个" in public and "3 位群众" in public
    assert "13900001000" not in phone_page.content() and TOILET not in public
    screenshot(phone_page, "topics-public")
