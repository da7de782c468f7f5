"""Opening a business at one window: each fact asked once, five departments in parallel, issued within one working day.

The live server runs in this process, so time-machine moves its clock too: the story starts on a
Monday at 09:00 and the results are issued at 15:00 the same day, 0.67 of the one-working-day limit.
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
from wangge.onestop.demo import BUSINESS_FACTS, seed_catalogue
from wangge.onestop.models import Application, ServiceBundle
from wangge.registry.testing import make_user

pytestmark = pytest.mark.browser
SH = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = dt.datetime(2026, 3, 9, 9, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _session_cookie_without_expiry(settings: Any) -> None:
    # The test clock is in the past of the browser's own clock: a session cookie with an
    # Expires date two weeks after the test clock would already be expired for Chromium.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True


def test_opening_a_business_collects_each_fact_once_and_issues_within_one_working_day(
    desk_page: Any, phone_page: Any, tree: Any, personas: Any
) -> None:
    seed_catalogue(tree.city)
    bundle = ServiceBundle.objects.get(code="KBQY")
    page = desk_page
    with time_machine.travel(MONDAY_0900, tick=True) as clock:
        login(page, personas[Role.TOWN])
        page.goto(reverse("onestop:catalogue"))
        figures = page.locator('[data-testid="figures-KBQY"]')
        assert [
            figures.locator(f'[data-figure="{k}"]').inner_text() for k in ("materials", "steps", "days", "fee")
        ] == [
            "5",
            "3",
            "1",
            "0",
        ]
        screenshot(page, "onestop-catalogue")
        page.click('[data-testid="apply-KBQY"]')

        # One form: every fact once, whatever the number of items that need it.
        keys = page.locator("[data-fact]").evaluate_all("els => els.map(e => e.dataset.fact)")
        assert len(keys) == len(set(keys))
        assert set(keys) == set(BUSINESS_FACTS)
        for key in keys:
            field = page.locator(f'[data-fact="{key}"]')
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(BUSINESS_FACTS[key])
            else:
                field.fill(BUSINESS_FACTS[key])
        materials = page.locator('input[name="materials"]')
        assert materials.count() == 5
        for i in range(materials.count()):
            materials.nth(i).check()
        page.select_option('select[name="identity_method"]', "id_card_reader")
        page.fill('input[name="id_number_read"]', BUSINESS_FACTS["id_number"])
        screenshot(page, "onestop-apply")
        with page.expect_navigation():
            page.click('[data-testid="submit-application"]')
        assert page.locator('[data-testid="app-state"]').get_attribute("data-state") == "submitted"
        assert page.locator('[data-testid="parts"] article').count() == 5
        app = Application.objects.get()

        # Each department handles its own part, in parallel, on its own page.
        clock.move_to(MONDAY_0900 + dt.timedelta(hours=1, minutes=30))
        for n, bi in enumerate(bundle.bundle_items.select_related("item__department").order_by("position")):
            staff = make_user(role=Role.DEPARTMENT, departments=[bi.item.department])
            task = app.tasks.get(item=bi.item)
            dept_page = phone_page if n == 0 else desk_page
            login(dept_page, staff)
            dept_page.goto(reverse("onestop:tasks"))
            assert dept_page.locator("[data-testid=tasks] tbody tr").count() == 1  # only this department's part
            dept_page.goto(reverse("onestop:task", kwargs={"pk": task.pk}))
            assert "0018" in dept_page.locator("main").inner_text() or "id_number" not in bi.item.form_fields
            assert BUSINESS_FACTS["id_number"] not in dept_page.content()
            with dept_page.expect_navigation():
                dept_page.click('[data-testid="accept"]')
            dept_page.fill('input[name="certificate_number"]', f"{bi.item.code}-20260309")
            if n == 0:
                screenshot(dept_page, "onestop-task")
            with dept_page.expect_navigation():
                dept_page.click('[data-testid="complete"]')
            assert dept_page.locator('[data-testid="task-state"]').get_attribute("data-state") == "done"

        # 15:00: the window issues every result together.
        clock.move_to(MONDAY_0900 + dt.timedelta(hours=6))
        login(page, personas[Role.TOWN])
        page.goto(reverse("onestop:application", kwargs={"pk": app.pk}))
        with page.expect_navigation():
            page.click('[data-testid="issue"]')
        assert page.locator('[data-testid="app-state"]').get_attribute("data-state") == "issued"
        assert page.locator('[data-testid="on-time"]').count() == 1
        elapsed = float(page.locator('[data-testid="elapsed"]').inner_text())
        assert 0.6 < elapsed < 1.0  # 6 of 9 working hours: within the one-working-day limit
        screenshot(page, "onestop-application")

    app.refresh_from_db()
    assert app.state == "issued" and app.issued_at is not None and app.due_at is not None
    assert app.issued_at <= app.due_at
    assert app.issued_at.astimezone(SH).date() == MONDAY_0900.date()

    # The public page, on a resident's phone without a login, shows the bundle's figures and the average.
    phone_page.context.clear_cookies()
    phone_page.goto(reverse("onestop:public"))
    average = phone_page.locator('[data-testid="avg-KBQY"]').inner_text()
    assert "1" in average and "0.67" in average
    assert BUSINESS_FACTS["applicant_name"] not in phone_page.content()
    screenshot(phone_page, "onestop-public")


def test_a_village_point_on_a_phone_sees_which_things_it_may_take(phone_page: Any, tree: Any, personas: Any) -> None:
    seed_catalogue(tree.city)
    login(phone_page, personas[Role.VILLAGE])
    phone_page.goto(reverse("onestop:catalogue"))
    disability = phone_page.locator('article[data-bundle="CJR"]')
    assert disability.locator("[data-testid=village-ok]").count() == 1  # every item of it is a village item
    assert phone_page.locator('article[data-bundle="KBQY"] [data-testid=village-ok]').count() == 0
    screenshot(phone_page, "onestop-catalogue")
    phone_page.goto(reverse("onestop:items") + "?village=1")
    assert phone_page.locator("[data-testid=items] tbody tr").count() == 44
    phone_page.goto(reverse("onestop:apply") + f"?bundle={ServiceBundle.objects.get(code='CJR').pk}")
    assert phone_page.locator("main").evaluate("e => e.scrollWidth") <= 360  # the form fits the phone
    facts = {
        "applicant_name": "罗桂兰",
        "id_number": "430181196511230029",
        "phone": "13907310003",
        "household_address": "金沙社区3组12号",
        "bank_account": "6230901234567890123",
        "disability_kind": "肢体",
        "disability_grade": "二级",
    }
    keys = phone_page.locator("[data-fact]").evaluate_all("els => els.map(e => e.dataset.fact)")
    assert sorted(keys) == sorted(facts)  # seven facts for three items, each once
    for key, value in facts.items():
        field = phone_page.locator(f'[data-fact="{key}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    boxes = phone_page.locator('input[name="materials"]')
    for i in range(boxes.count()):
        boxes.nth(i).check()
    phone_page.select_option('select[name="identity_method"]', "face")
    screenshot(phone_page, "onestop-apply")
    with phone_page.expect_navigation():
        phone_page.click('[data-testid="submit-application"]')
    assert phone_page.locator('[data-testid="app-state"]').get_attribute("data-state") == "submitted"
    assert phone_page.locator('[data-testid="parts"] article').count() == 3
    screenshot(phone_page, "onestop-application")
