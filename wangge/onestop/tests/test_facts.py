"""The combined form's checks: each refusal names the field in Chinese and English."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.onestop.facts import FACTS, clean_facts, clean_value, masked, ordered_keys, protect, reveal, uscc_ok
from wangge.onestop.testing import GOOD_ID, GOOD_USCC

TODAY = dt.date(2026, 3, 9)


def test_uscc_checksum_follows_gb_32100() -> None:
    assert uscc_ok(GOOD_USCC)
    assert not uscc_ok(GOOD_USCC[:-1] + "4")  # wrong check character
    assert not uscc_ok("91350100M000100Y4")  # 17 characters
    assert not uscc_ok("9135010OM000100Y43")  # the letter O is not in the code's alphabet


@pytest.mark.parametrize(
    ("key", "raw", "code", "zh", "en"),
    [
        ("id_number", "430181199003150017", "bad_id", "申请人身份证号码", "applicant's ID number"),
        ("phone", "1380000", "bad_phone", "联系电话", "phone"),
        ("credit_code", "91350100M000100Y44", "bad_credit_code", "统一社会信用代码", "unified social credit code"),
        ("birth_date", "2026-13-01", "bad_date", "出生日期", "date of birth"),
        ("birth_date", "2026-03-10", "future_date", "出生日期", "date of birth"),
        ("price", "12.345", "bad_money", "成交价格（元）", "price (yuan)"),
        ("price", "-1", "bad_money", "成交价格（元）", "price (yuan)"),
        ("employees", "三", "bad_int", "参保职工人数", "employees to insure"),
        ("invoice_kind", "普通", "bad_choice", "申领发票种类", "kind of invoice"),
        ("bank_account", "12ab", "bad_account", "银行账号", "bank account number"),
        ("company_name", "  ", "required", "企业名称", "company name"),
    ],
)
def test_bad_values_are_refused_naming_the_field_in_both_languages(
    key: str, raw: str, code: str, zh: str, en: str
) -> None:
    _, problem = clean_value(FACTS[key], raw, today=TODAY)
    assert problem is not None
    assert problem.code == code
    assert problem.field == key
    assert problem.zh.startswith(zh + "：")
    assert problem.en.startswith(en + ":")


def test_good_values_are_normalised() -> None:
    clean, problems = clean_facts(
        ["id_number", "phone", "price", "credit_code", "birth_date", "employees"],
        {
            "id_number": GOOD_ID.lower(),
            "phone": "+86 139 0731 0001",
            "price": "1,250,000",
            "credit_code": GOOD_USCC.lower(),
            "birth_date": "2026-03-01",
            "employees": "06",
        },
        today=TODAY,
    )
    assert problems == []
    assert clean == {
        "id_number": GOOD_ID,
        "phone": "13907310001",
        "price": "1250000.00",
        "credit_code": GOOD_USCC,
        "birth_date": "2026-03-01",
        "employees": "6",
    }


def test_keys_come_out_once_in_catalogue_order() -> None:
    assert ordered_keys(["company_name", "phone", "applicant_name", "phone", "company_name"]) == [
        "applicant_name",
        "phone",
        "company_name",
    ]


def test_other_peoples_id_numbers_are_encrypted_at_rest_and_masked_on_display() -> None:
    stored = protect({"seller_id_number": GOOD_ID, "seller_name": "王五"})
    assert GOOD_ID not in str(stored)
    assert reveal(stored)["seller_id_number"] == GOOD_ID
    shown = masked(stored)
    assert shown["seller_id_number"] == "430181********0018"
    assert shown["seller_name"] == "王五"
