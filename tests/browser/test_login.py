"""The login page speaks Chinese, and every persona lands on its own area and no other town."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import login, screenshot
from wangge.accounts.models import Role

pytestmark = pytest.mark.browser


def test_login_page_is_in_chinese(phone_page: Any, live_server: Any) -> None:
    phone_page.goto(reverse("accounts:login"))
    assert phone_page.locator("html").get_attribute("lang") == "zh-CN"
    body = phone_page.locator("body").inner_text()
    assert "登录" in body
    screenshot(phone_page, "login")


def test_wrong_password_is_refused_in_both_languages(desk_page: Any, personas: Any) -> None:
    desk_page.goto(reverse("accounts:login"))
    desk_page.fill("input[name=username]", personas[Role.TOWN].username)
    desk_page.fill("input[name=password]", "not-the-password")
    desk_page.click("form[action$='/login/'] button[type=submit]")
    error = desk_page.locator("[data-testid=login-error]").inner_text()
    assert "用户名或密码错误" in error
    assert desk_page.locator("[data-testid=whoami]").count() == 0


# Each persona, the area name it must see on landing, and the other town it must never see.
LANDINGS = [
    (Role.GRID_LEADER, "金沙1号微网格"),
    (Role.BRANCH, "金沙第一党支部"),
    (Role.VILLAGE, "金沙社区"),
    (Role.TOWN, "集里街道"),
    (Role.DEPARTMENT, "供电公司"),
    ("outsider", "淮川街道"),
]


@pytest.mark.parametrize(("persona", "own"), LANDINGS)
def test_each_persona_lands_on_its_own_area(phone_page: Any, personas: Any, persona: str, own: str) -> None:
    login(phone_page, personas[persona])
    body = phone_page.locator("main").inner_text()
    assert own in body
    # Nothing of the other town: neither its name nor its village's.
    others = ("集里街道", "金沙") if persona == "outsider" else ("淮川街道", "北正")
    for name in others:
        assert name not in body
