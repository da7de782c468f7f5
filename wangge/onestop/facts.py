"""The facts a combined form may ask (一次表单): each has one key, a translated label, a type and a check.

Labels are translations (context "one-stop fact"). Every service item names the fact keys it needs;
a bundle's form asks the union of its items' keys, each once, in the order of this catalogue
(identity first, then business, family, property...).
Validation lives here so that the page, the API and the services refuse the same input with the
same bilingual message naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import FieldProblem, render_both
from wangge.core.masking import decrypt, encrypt, id_checksum_ok, mask_id_number
from wangge.core.phones import is_valid_phone, normalise_phone
from wangge.core.text import Listed

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
    label: Any  # a lazy translation: the page's language, or both through render_both
    type: str  # text | id | phone | uscc | date | money | int | account | choice
    choices: tuple[str, ...] = ()
    past_only: bool = False  # dates that cannot lie in the future (a birth, a retirement already due)
    max_length: int = 200
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
        Fact("applicant_name", pgettext_lazy("one-stop fact", "applicant's name"), "text", max_length=50),
        Fact("id_number", pgettext_lazy("one-stop fact", "applicant's ID number"), "id"),
        Fact("phone", pgettext_lazy("one-stop fact", "phone"), "phone"),
        Fact("company_name", pgettext_lazy("one-stop fact", "company name"), "text", max_length=100),
        Fact("credit_code", pgettext_lazy("one-stop fact", "unified social credit code"), "uscc"),
        Fact("registered_address", pgettext_lazy("one-stop fact", "registered address"), "text"),
        Fact("business_scope", pgettext_lazy("one-stop fact", "business scope"), "text", max_length=500),
        Fact("registered_capital", pgettext_lazy("one-stop fact", "registered capital (10,000 yuan)"), "money"),
        Fact("employees", pgettext_lazy("one-stop fact", "employees to insure"), "int"),
        Fact(
            "invoice_kind",
            pgettext_lazy("one-stop fact", "kind of invoice"),
            "choice",
            choices=("增值税普通发票", "增值税专用发票"),
        ),
        Fact("bank", pgettext_lazy("one-stop fact", "bank"), "text", max_length=100),
        Fact("food_category", pgettext_lazy("one-stop fact", "food business category"), "text"),
        Fact("child_name", pgettext_lazy("one-stop fact", "newborn's name"), "text", max_length=50),
        Fact("birth_date", pgettext_lazy("one-stop fact", "date of birth"), "date", past_only=True),
        Fact("birth_hospital", pgettext_lazy("one-stop fact", "hospital of birth"), "text", max_length=100),
        Fact("mother_name", pgettext_lazy("one-stop fact", "mother's name"), "text", max_length=50),
        Fact("mother_id_number", pgettext_lazy("one-stop fact", "mother's ID number"), "id"),
        Fact("father_name", pgettext_lazy("one-stop fact", "father's name"), "text", max_length=50),
        Fact("father_id_number", pgettext_lazy("one-stop fact", "father's ID number"), "id"),
        Fact("household_address", pgettext_lazy("one-stop fact", "registered residence"), "text"),
        Fact("employer", pgettext_lazy("one-stop fact", "employer"), "text", max_length=100),
        Fact("retire_date", pgettext_lazy("one-stop fact", "retirement date"), "date"),
        Fact("bank_account", pgettext_lazy("one-stop fact", "bank account number"), "account"),
        Fact("house_address", pgettext_lazy("one-stop fact", "address of the property"), "text"),
        Fact("property_cert_no", pgettext_lazy("one-stop fact", "property certificate number"), "text", max_length=60),
        Fact("seller_name", pgettext_lazy("one-stop fact", "seller's name"), "text", max_length=50),
        Fact("seller_id_number", pgettext_lazy("one-stop fact", "seller's ID number"), "id"),
        Fact("price", pgettext_lazy("one-stop fact", "price (yuan)"), "money"),
        Fact(
            "disability_kind",
            pgettext_lazy("one-stop fact", "kind of disability"),
            "choice",
            choices=("视力", "听力", "言语", "肢体", "智力", "精神", "多重"),
        ),
        Fact(
            "disability_grade",
            pgettext_lazy("one-stop fact", "disability grade"),
            "choice",
            choices=("一级", "二级", "三级", "四级"),
        ),
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


def _problem(fact: Fact, code: str, message: Any, **params: Any) -> FieldProblem:
    """The problem in both languages; every message starts with the fact's label (`%(label)s: ...`)."""
    zh, en = render_both(message, {"label": fact.label, **params})
    return FieldProblem(code=code, zh=zh, en=en, field=fact.key)


def clean_value(fact: Fact, raw: object, *, today: dt.date) -> tuple[str, FieldProblem | None]:
    """The value as stored (text) or a problem naming the field in both languages."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return "", _problem(fact, "required", _("%(label)s: is required"))
    if len(text) > fact.max_length:
        return text, _problem(
            fact, "too_long", _("%(label)s: is longer than %(limit)s characters"), limit=fact.max_length
        )
    if fact.type == "id":
        text = text.upper()
        if not id_checksum_ok(text):
            return text, _problem(fact, "bad_id", _("%(label)s: is not a valid 18-digit ID number (check digit)"))
    elif fact.type == "phone":
        text = normalise_phone(text)
        if not is_valid_phone(text):
            return text, _problem(fact, "bad_phone", _("%(label)s: is not a valid phone number"))
    elif fact.type == "uscc":
        text = text.upper()
        if not uscc_ok(text):
            return text, _problem(
                fact,
                "bad_credit_code",
                _("%(label)s: is not a valid 18-character unified social credit code (GB 32100 check character)"),
            )
    elif fact.type == "date":
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text, _problem(fact, "bad_date", _("%(label)s: must be a date like 2026-03-09"))
        if fact.past_only and day > today:
            return text, _problem(fact, "future_date", _("%(label)s: cannot be later than today"))
        text = day.isoformat()
    elif fact.type == "money":
        try:
            amount = Decimal(text.replace(",", "").replace("，", ""))
        except InvalidOperation:
            return text, _problem(fact, "bad_money", _("%(label)s: must be an amount such as 50 or 12.5"))
        if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
            return text, _problem(fact, "bad_money", _("%(label)s: must be an amount ≥ 0 with at most two decimals"))
        text = format(amount.quantize(Decimal("0.01")), "f")
    elif fact.type == "int":
        if not text.isdigit() or int(text) > 1_000_000:
            return text, _problem(fact, "bad_int", _("%(label)s: must be a whole number ≥ 0"))
        text = str(int(text))
    elif fact.type == "account":
        text = text.replace(" ", "")
        if not _ACCOUNT_RE.match(text):
            return text, _problem(fact, "bad_account", _("%(label)s: must be 12 to 30 digits"))
    elif fact.type == "choice" and text not in fact.choices:
        return text, _problem(
            fact,
            "bad_choice",
            _("%(label)s: must be one of the listed choices: %(choices)s"),
            choices=Listed(fact.choices),
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
