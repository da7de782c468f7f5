"""Errors built from one translatable message carry both languages from the catalogue."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import FieldProblem, ValidationFailed, render_both
from wangge.core.text import Listed


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


def test_a_listed_parameter_is_joined_the_way_each_language_joins_a_list():
    error = ValidationFailed(
        _("missing columns: %(missing)s (found: %(header)s)"),
        params={"missing": Listed(["户主", "地址"]), "header": Listed(["电话"])},
    )
    assert error.zh == "文件缺少列：户主、地址（现有：电话）"
    assert error.en == "missing columns: 户主, 地址 (found: 电话)"


def test_a_field_problem_from_one_message_keeps_its_place_in_the_file():
    problem = FieldProblem.of(
        _("the required column '%(header)s' (%(name)s) is missing"),
        {"header": "户地址", "name": "address"},
        code="missing_column",
        field="address",
        sheet="户籍登记",
        row=1,
        column="户地址",
    )
    assert problem.as_dict()["message"] == "缺少必填列「户地址」（address）"
    assert problem.as_dict()["message_en"] == "the required column '户地址' (address) is missing"
    assert str(problem).startswith("工作表「户籍登记」第 1 行「户地址」列：缺少必填列")
    assert (problem.code, problem.field, problem.row) == ("missing_column", "address", 1)
