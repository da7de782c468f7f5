"""The register kept by the people who know it: on a 375 px phone, the grid leader opens a household,
finds the old lady now lives alone (her grandson moved away) and her son's number changed, saves it,
and reads the history; a second leader who opened the form before that save is told someone else was
first, and nothing of theirs is written; then the leader proposes a move that the village approves at
its desk, after which the household is the next grid's (its old leader no longer opens it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role
from wangge.registry.models import Household
from wangge.registry.testing import make_household

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 375, "height": 667}}  # a cheap phone
ID_NUMBER = "430181199001011233"


def fits(page: Any) -> bool:
    """Nothing is wider than the screen (no sideways scrolling on the phone)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_leader_edits_a_household_on_a_phone_and_reads_its_history(
    make_page: Any, live_server: Any, tree: Any, personas: Any
) -> None:
    h = make_household(grid=tree.grid, head_name="李桂英", phone="13800001111", members=3, id_number=ID_NUMBER)

    # The second leader (the branch secretary) opens the form first and leaves it open.
    other = make_page("phone", **NARROW)
    login(other, personas[Role.BRANCH])
    other.goto(reverse("registry:household_edit", args=[h.pk]))

    phone = make_page("phone", **NARROW)
    login(phone, personas[Role.GRID_LEADER])
    phone.goto(reverse("registry:households"))
    with phone.expect_navigation():
        phone.get_by_role("link", name="李桂英").click()
    assert phone.locator("[data-testid=household-phone]").inner_text() == "138****1111"
    assert ID_NUMBER not in phone.content()
    with phone.expect_navigation():
        phone.click("[data-testid=household-edit]")
    assert fits(phone)
    screenshot(phone, "register-edit")

    # A bad number first: the field is named in Chinese and English, nothing is saved.
    phone.fill("input[name=phone]", "12345")
    phone.fill("input[name=members]", "1")
    with phone.expect_navigation():
        phone.click("[data-testid=household-save]")
    error = phone.locator("[data-testid=error-phone]").inner_text()
    assert "联系电话" in error and "Phone" in error
    assert Household.objects.get(pk=h.pk).members == 3

    phone.fill("input[name=phone]", "13912345678")
    phone.check("[data-testid=tag-elderly_alone] input")
    phone.fill("input[name=people-0-name]", "王小明")
    phone.fill("input[name=people-0-relation]", "孙子")
    phone.select_option("select[name=people-0-status]", "moved_out")
    with phone.expect_navigation():
        phone.click("[data-testid=household-save]")
    assert phone.locator("[data-testid=household-members]").inner_text() == "1"
    assert "独居老人" in phone.locator("[data-testid=household-tags]").inner_text()
    assert "王小明（孙子）" in phone.locator("[data-testid=household-people]").inner_text()
    history = phone.locator("[data-testid=history-item]").first.inner_text()
    assert "138****1111" in history and "139****5678" in history and "独居老人" in history
    assert "王小明（孙子） 已迁出" in history
    assert "13912345678" not in phone.content()
    assert fits(phone)
    screenshot(phone, "register-history")

    # The branch secretary saves the form opened before: told, in both languages, and nothing written.
    other.fill("input[name=members]", "5")
    with other.expect_navigation():
        other.click("[data-testid=household-save]")
    refusal = other.locator("[data-testid=error-form]").inner_text()
    assert "其他人已修改" in refusal and "Someone else changed this household" in refusal
    h.refresh_from_db()
    assert (h.members, h.phone, h.version) == (1, "13912345678", 2)

    # A move to the next grid waits for the village, which approves it at its desk.
    phone.goto(reverse("registry:household_edit", args=[h.pk]))
    phone.select_option("select[name=to_grid]", str(tree.sibling_grid.pk))
    phone.fill("input[name=reason]", "搬到女儿家")
    with phone.expect_navigation():
        phone.click("[data-testid=household-save]")
    assert tree.sibling_grid.name in phone.locator("[data-testid=pending-move]").inner_text()
    assert Household.objects.get(pk=h.pk).grid_id == tree.grid.pk

    desk = make_page("desk")
    login(desk, personas[Role.VILLAGE])
    desk.goto(reverse("registry:moves"))
    with desk.expect_navigation():
        desk.locator("[data-testid^=approve-]").click()
    assert Household.objects.get(pk=h.pk).grid_id == tree.sibling_grid.pk
    # The household now belongs to the next grid: its old leader no longer opens it; the village reads it all.
    assert phone.goto(reverse("registry:household", args=[h.pk])).status == 404
    desk.goto(reverse("registry:household", args=[h.pk]))
    kinds = desk.locator("[data-testid=history-item] .when strong").all_inner_texts()
    assert kinds[:3] == ["迁移已同意", "申请迁往其他微网格", "已修改"]
