"""Errors built from one translatable message carry both languages from the catalogue."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed, render_both


def test_lazy_message_is_rendered_in_chinese_and_english_whatever_the_active_language():
    with translation.override("en"):
        error = ValidationFailed(_("Log in"), field="username")
    assert (error.zh, error.en) == ("登录", "Log in")
    assert error.as_dict()["message"] == "登录"
    assert error.field == "username"


def test_lazy_parameters_are_rendered_in_the_same_language_as_the_message():
    zh, en = render_both("%(what)s (%(n)s)", {"what": _("Log in"), "n": 3})
    assert (zh, en) == ("登录 (3)", "Log in (3)")


def test_the_two_string_form_still_works():
    error = ValidationFailed("标题不能为空", "Title is required", field="title")
    assert str(error) == "「title」标题不能为空 / Title is required"
