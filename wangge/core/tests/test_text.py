"""Free text: trimmed, control characters dropped, refused when required and empty or too long."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed, render_both
from wangge.core.text import Listed, Said, capped_text, clean_text


def test_clean_text_trims_and_drops_control_characters_but_keeps_lines() -> None:
    assert clean_text("  路灯\x00坏了\r\n第二行\t ", field="t", label=_("narrative"), limit=20) == "路灯坏了\n第二行"
    assert clean_text(None, field="t", label=_("narrative"), limit=20) == ""


def test_clean_text_refuses_empty_when_required_and_too_long_on_its_field() -> None:
    with pytest.raises(ValidationFailed) as empty:
        clean_text(" \x00 ", field="reason", label=_("reason to send back"), limit=10, required=True)
    assert (empty.value.code, empty.value.field, empty.value.zh, empty.value.en) == (
        "required",
        "reason",
        "退回原因不能为空",
        "reason to send back is required",
    )
    with pytest.raises(ValidationFailed) as long:
        clean_text("长" * 11, field="reason", label=_("reason to send back"), limit=10)
    assert long.value.code == "too_long" and "不能超过 10 字" in long.value.zh and "10 characters" in long.value.en
    assert clean_text("长" * 10, field="reason", label=_("reason to send back"), limit=10) == "长" * 10


def test_capped_text_cuts_silently() -> None:
    assert capped_text("  湘江路 12 号\x07  ", 5) == "湘江路 1"
    assert capped_text(None, 5) == ""


def test_a_listed_parameter_is_joined_the_way_each_language_lists() -> None:
    zh, en = render_both(_("not every department is done: %(tasks)s"), {"tasks": Listed(["市场监管", "税务"])})
    assert zh == "以下部门事项尚未办结：市场监管、税务"
    assert en == "not every department is done: 市场监管, 税务"


def test_a_said_parameter_keeps_the_words_written_for_each_language() -> None:
    zh, en = render_both(_("line %(row)s: %(problem)s"), {"row": 2, "problem": Said("金额不能为负数", "negative")})
    assert (zh, en) == ("第 2 行：金额不能为负数", "line 2: negative")
