"""The facts a combined form may ask (一次表单): each has one key, a Chinese label, a type and a check.

Every service item names the fact keys it needs; a bundle's form asks the union of its items' keys,
each once, in the order of this catalogue (identity first, then business, family, property...).
Validation lives here so that the page, the API and the services refuse the same input with the
same bilingual message naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from wangge.core.errors import FieldProblem
from wangge.core.masking import decrypt, encrypt, id_checksum_ok, mask_id_number
from wangge.core.phones import is_valid_phone, normalise_phone

# The facts stored in their own columns of an Application (masked, encrypted), not in its JSON.
APPLICANT_KEYS = ("applicant_name", "id_number", "phone")

# GB 32100-2015: the unified social credit code's 31 characters (no I, O, Z, S, V) and weights.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ACCOUNT_RE = re.compile(r"^\d{12,30}$")


@dataclass(frozen=True)
class Fact:
    """One thing the applicant is asked, once, whatever the number of items that need it."""

    key: str
    zh: str
    en: str
    type: str  # text | id | phone | uscc | date | money | int | account | choice
    choices: tuple[str, ...] = ()
    past_only: bool = False  # dates that cannot lie in the future (a birth, a retirement already due)
    max_length: int = 200
    help_zh: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def html_type(self) -> str:
        return {"date": "date", "phone": "tel", "int": "number"}.get(self.type, "text")

    @property
    def inputmode(self) -> str:
        return {"phone": "tel", "money": "decimal", "int": "numeric", "account": "numeric"}.get(self.type, "")

    @property
    def sensitive(self) -> bool:
        """ID numbers are encrypted at rest and shown masked."""
        return self.type == "id"


FACTS: dict[str, Fact] = {
    f.key: f
    for f in [
        Fact("applicant_name", "申请人姓名", "applicant's name", "text", max_length=50),
        Fact("id_number", "申请人身份证号码", "applicant's ID number", "id"),
        Fact("phone", "联系电话", "phone", "phone"),
        Fact("company_name", "企业名称", "company name", "text", max_length=100),
        Fact("credit_code", "统一社会信用代码", "unified social credit code", "uscc"),
        Fact("registered_address", "住所（经营场所）", "registered address", "text"),
        Fact("business_scope", "经营范围", "business scope", "text", max_length=500),
        Fact("registered_capital", "注册资本（万元）", "registered capital (10,000 yuan)", "money"),
        Fact("employees", "参保职工人数", "employees to insure", "int"),
        Fact("invoice_kind", "申领发票种类", "kind of invoice", "choice", choices=("增值税普通发票", "增值税专用发票")),
        Fact("bank", "开户银行", "bank", "text", max_length=100),
        Fact("food_category", "食品经营项目", "food business category", "text"),
        Fact("child_name", "新生儿姓名", "newborn's name", "text", max_length=50),
        Fact("birth_date", "出生日期", "date of birth", "date", past_only=True),
        Fact("birth_hospital", "出生医院", "hospital of birth", "text", max_length=100),
        Fact("mother_name", "母亲姓名", "mother's name", "text", max_length=50),
        Fact("mother_id_number", "母亲身份证号码", "mother's ID number", "id"),
        Fact("father_name", "父亲姓名", "father's name", "text", max_length=50),
        Fact("father_id_number", "父亲身份证号码", "father's ID number", "id"),
        Fact("household_address", "户籍地址", "registered residence", "text"),
        Fact("employer", "工作单位", "employer", "text", max_length=100),
        Fact("retire_date", "退休日期", "retirement date", "date"),
        Fact("bank_account", "银行账号", "bank account number", "account"),
        Fact("house_address", "房屋坐落", "address of the property", "text"),
        Fact("property_cert_no", "不动产权证书号", "property certificate number", "text", max_length=60),
        Fact("seller_name", "卖方姓名", "seller's name", "text", max_length=50),
        Fact("seller_id_number", "卖方身份证号码", "seller's ID number", "id"),
        Fact("price", "成交价格（元）", "price (yuan)", "money"),
        Fact(
            "disability_kind",
            "残疾类别",
            "kind of disability",
            "choice",
            choices=("视力", "听力", "言语", "肢体", "智力", "精神", "多重"),
        ),
        Fact("disability_grade", "残疾等级", "disability grade", "choice", choices=("一级", "二级", "三级", "四级")),
    ]
}
FACT_ORDER: dict[str, int] = {key: i for i, key in enumerate(FACTS)}


def uscc_ok(value: str) -> bool:
    """GB 32100-2015 check character of an 18-character unified social credit code."""
    if not _USCC_RE.match(value):
        return False
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(value[:17], USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return USCC_CHARS[check] == value[17]


def ordered_keys(keys: list[str] | set[str] | tuple[str, ...]) -> list[str]:
    """Distinct keys in catalogue order (unknown keys last, as given)."""
    seen = list(dict.fromkeys(keys))
    return sorted(seen, key=lambda k: FACT_ORDER.get(k, len(FACT_ORDER)))


def unknown_keys(keys: list[str]) -> list[str]:
    return [k for k in keys if k not in FACTS]


def _problem(fact: Fact, code: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(code=code, zh=f"{fact.zh}：{zh}", en=f"{fact.en}: {en}", field=fact.key)


def clean_value(fact: Fact, raw: object, *, today: dt.date) -> tuple[str, FieldProblem | None]:
    """The value as stored (text) or a problem naming the field in both languages."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return "", _problem(fact, "required", "必须填写", "is required")
    if len(text) > fact.max_length:
        return text, _problem(
            fact, "too_long", f"不能超过 {fact.max_length} 个字", f"is longer than {fact.max_length} characters"
        )
    if fact.type == "id":
        text = text.upper()
        if not id_checksum_ok(text):
            return text, _problem(
                fact,
                "bad_id",
                "不是有效的 18 位身份证号码（校验位不符）",
                "is not a valid 18-digit ID number (check digit)",
            )
    elif fact.type == "phone":
        text = normalise_phone(text)
        if not is_valid_phone(text):
            return text, _problem(fact, "bad_phone", "号码格式不正确", "is not a valid phone number")
    elif fact.type == "uscc":
        text = text.upper()
        if not uscc_ok(text):
            return text, _problem(
                fact,
                "bad_credit_code",
                "不是有效的 18 位统一社会信用代码（GB 32100 校验位不符）",
                "is not a valid 18-character unified social credit code (GB 32100 check character)",
            )
    elif fact.type == "date":
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text, _problem(fact, "bad_date", "日期格式应为 2026-03-09", "must be a date like 2026-03-09")
        if fact.past_only and day > today:
            return text, _problem(fact, "future_date", "不能晚于今天", "cannot be later than today")
        text = day.isoformat()
    elif fact.type == "money":
        try:
            amount = Decimal(text.replace(",", "").replace("，", ""))
        except InvalidOperation:
            return text, _problem(fact, "bad_money", "应为金额，如 50 或 12.5", "must be an amount such as 50 or 12.5")
        if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            return text, _problem(
                fact, "bad_money", "应为不小于 0、最多两位小数的金额", "must be an amount ≥ 0 with at most two decimals"
            )
        text = format(amount.quantize(Decimal("0.01")), "f")
    elif fact.type == "int":
        if not text.isdigit() or int(text) > 1_000_000:
            return text, _problem(fact, "bad_int", "应为不小于 0 的整数", "must be a whole number ≥ 0")
        text = str(int(text))
    elif fact.type == "account":
        text = text.replace(" ", "")
        if not _ACCOUNT_RE.match(text):
            return text, _problem(fact, "bad_account", "应为 12 到 30 位数字", "must be 12 to 30 digits")
    elif fact.type == "choice" and text not in fact.choices:
        return text, _problem(
            fact, "bad_choice", "请从列表中选择：" + "、".join(fact.choices), "must be one of the listed choices"
        )
    return text, None


def clean_facts(keys: list[str], raw: dict[str, Any], *, today: dt.date) -> tuple[dict[str, str], list[FieldProblem]]:
    """Every key checked; the clean values of the good ones and one problem per bad one."""
    clean: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for key in keys:
        fact = FACTS[key]
        value, problem = clean_value(fact, raw.get(key), today=today)
        if problem:
            problems.append(problem)
        else:
            clean[key] = value
    return clean, problems


def protect(facts: dict[str, str]) -> dict[str, str]:
    """Facts as stored: ID numbers of other people (parents, sellers) encrypted at rest."""
    return {k: (encrypt(v) if k in FACTS and FACTS[k].sensitive else v) for k, v in facts.items()}


def reveal(stored: dict[str, str]) -> dict[str, str]:
    return {k: (decrypt(v) if k in FACTS and FACTS[k].sensitive else v) for k, v in stored.items()}


def masked(stored: dict[str, str]) -> dict[str, str]:
    """Facts for display: ID numbers masked, never decrypted into a page."""
    return {k: (mask_id_number(decrypt(v)) if k in FACTS and FACTS[k].sensitive else v) for k, v in stored.items()}
