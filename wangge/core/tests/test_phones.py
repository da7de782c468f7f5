"""Phones: one cleaning for every writer (typed, pasted, or stored by Excel as a float)."""

from __future__ import annotations

import random

import pytest
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.phones import clean_phone, demo_mobile, is_mobile, is_valid_phone, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (13800001111.0, "13800001111"),  # Excel's number cell
        ("+86 138 0000 1111", "13800001111"),
        (" 0731－83201234 ", "0731-83201234"),  # a full-width dash typed on a Chinese keyboard
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_normalise_phone(raw: object, expected: str) -> None:
    assert normalise_phone(raw) == expected


def test_valid_and_mobile() -> None:
    assert is_valid_phone("13800001111") and is_mobile("13800001111")
    assert is_valid_phone("0731-83201234") and not is_mobile("0731-83201234")
    assert not is_valid_phone("12345") and not is_valid_phone("12800001111")


def test_clean_phone_keeps_a_good_number_and_allows_empty_when_optional() -> None:
    assert clean_phone("138 0000 1111") == "13800001111"
    assert clean_phone("", required=False) == ""


def test_clean_phone_refuses_a_malformed_number_on_its_field_in_both_languages() -> None:
    with pytest.raises(ValidationFailed) as bad:
        clean_phone("12345", field="reporter_phone")
    assert bad.value.code == "bad_phone" and bad.value.field == "reporter_phone"
    assert "电话号码格式不正确：12345" in bad.value.zh and "12345 is not valid" in bad.value.en


def test_clean_phone_asks_for_a_required_number_with_the_callers_reason() -> None:
    with pytest.raises(ValidationFailed) as plain:
        clean_phone("  ", required=True)
    assert plain.value.code == "phone_required" and plain.value.zh == "请填写电话号码"
    with pytest.raises(ValidationFailed) as told:
        clean_phone(None, required=True, missing=_("Please give a phone number so that staff can reach you"))
    assert told.value.zh == "请填写手机号码，方便工作人员联系您"
    assert told.value.en == "Please give a phone number so that staff can reach you"


def test_demo_mobile_is_a_valid_mobile_and_repeatable() -> None:
    numbers = [demo_mobile(random.Random(7)) for _ in range(2)]
    assert numbers[0] == numbers[1] and is_mobile(numbers[0])
    assert all(is_mobile(demo_mobile(random.Random(i))) for i in range(50))
