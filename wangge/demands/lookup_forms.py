"""Forms of "find my demand" (查询我的诉求): the public code and phone, then the one-time SMS code.

A module of its own beside the `forms` package. They check shape only; whether the pair
exists is never said to the visitor (`wangge.demands.services.lookup`).
"""

from __future__ import annotations

from django import forms

from wangge.core.errors import ValidationFailed
from wangge.core.phones import clean_phone, is_mobile
from wangge.demands.forms import both, required
from wangge.demands.services.lookup import CODE_RE, normalise_code


class LookupForm(forms.Form):
    code = forms.CharField(max_length=40, error_messages=required("请填写诉求编号", "Please give the demand code"))
    phone = forms.CharField(max_length=20, error_messages=required("请填写手机号码", "Please give your phone number"))

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data.get("code", ""))
        if not CODE_RE.match(code):
            raise forms.ValidationError(
                both("诉求编号的格式是 LY-20260415-000123", "A demand code looks like LY-20260415-000123")
            )
        return code

    def clean_phone(self) -> str:
        try:
            phone = clean_phone(self.cleaned_data.get("phone", ""), required=True)
        except ValidationFailed as exc:
            raise forms.ValidationError(both(exc.zh, exc.en)) from None
        if not is_mobile(phone):
            raise forms.ValidationError(
                both("验证码只能发到手机，请填写手机号码", "The code goes by SMS: please give a mobile number")
            )
        return phone


class LookupVerifyForm(LookupForm):
    otp = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        error_messages={
            **required("请填写短信验证码", "Please type the code from the SMS"),
            "invalid": both("验证码是 6 位数字", "The code has 6 digits"),
        },
    )

    def clean_otp(self) -> str:
        return str(self.cleaned_data.get("otp", "")).strip()
