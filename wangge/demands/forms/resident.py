"""The resident's forms: the report, the follow offer of a duplicate, and the tracking page."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.demands.forms.common import PlaceMixin, both, clean_category_code, clean_phone_value, required, too_long
from wangge.demands.models import Category, Kind, Satisfaction
from wangge.registry.models import Area, Level


class ReportForm(PlaceMixin):
    """What a resident types on the public page (no account)."""

    RESIDENT_KINDS = [
        (Kind.HELP, "求助 Help"),
        (Kind.COMPLAINT, "投诉 Complaint"),
        (Kind.CONSULTATION, "咨询 Question"),
        (Kind.SUGGESTION, "建议 Suggestion"),
        (Kind.REPORT, "举报 Report"),
        (Kind.PRAISE, "表扬 Praise"),
    ]

    phone = forms.CharField(max_length=20, error_messages=required("请填写手机号码", "Please give your phone number"))
    name = forms.CharField(required=False, max_length=50, error_messages=too_long(50))
    kind = forms.ChoiceField(choices=RESIDENT_KINDS, initial=Kind.HELP, required=False)
    category = forms.CharField(required=False, max_length=32)
    description = forms.CharField(
        max_length=2000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            **required("请描述您遇到的问题", "Please describe the problem"),
            **too_long(2000),
            "min_length": both("请多写几个字，说清楚问题", "Please write a few more words about the problem"),
        },
    )
    urgent = forms.BooleanField(required=False)
    # 同意公开: unticked by default; the public reads the reporter's words (redacted) only when ticked.
    publish_consent = forms.BooleanField(required=False)
    # 请为我保密: only the staff handling it see it (no publication, no offer to others, no followers).
    confidential = forms.BooleanField(required=False)
    grid = forms.CharField(required=False, max_length=32)
    town = forms.IntegerField(required=False)
    village = forms.IntegerField(required=False)
    # A fresh key per rendered page: a double tap or a resend on a slow network files one demand.
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    place = forms.CharField(required=False)  # holds errors about the place; the inputs are above
    photos = forms.Field(required=False)  # holds errors about photos; the files come in request.FILES
    # Set once the resident has seen the demands nearby that look the same and still adds theirs.
    add_anyway = forms.BooleanField(required=False)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""), required_=True)

    def clean_category(self) -> Category | None:
        return clean_category_code(self.cleaned_data.get("category") or "")

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or Kind.HELP

    def clean_idempotency_key(self) -> str | None:
        key = (self.cleaned_data.get("idempotency_key") or "").strip()
        if not key:
            return None
        try:
            return "web-" + str(uuid.UUID(key))
        except ValueError:
            return None  # a mangled key only loses the duplicate protection, never the report

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.clean_point(cleaned)
        grid_code = (cleaned.get("grid") or "").strip()
        cleaned["grid_area"] = cleaned["area"] = None
        if grid_code:
            grid = Area.objects.filter(code=grid_code, level=Level.GRID).first()
            if grid is None:
                self.add_error(
                    "place",
                    both("找不到该网格，请从列表中选择", "That grid was not found; please choose from the list"),
                )
            cleaned["grid_area"] = grid
        elif cleaned.get("village"):
            cleaned["area"] = Area.objects.filter(pk=cleaned["village"], level=Level.VILLAGE).first()
        elif cleaned.get("town"):
            cleaned["area"] = Area.objects.filter(pk=cleaned["town"], level=Level.TOWN).first()
        has_point = cleaned.get("lat") is not None and cleaned.get("lng") is not None
        if not grid_code and cleaned["area"] is None and not has_point and "place" not in self.errors:
            self.add_error(
                "place",
                both("请选择所在位置，或点击“使用我的位置”", "Please choose where it is, or tap “Use my location”"),
            )
        return cleaned


# A follow button carries the offered demand signed by us: a resident can follow only what was offered
# to them (codes are sequential; a typed code must not open anyone's timeline), for a couple of hours.
FOLLOW_SALT = "wangge.demands.follow-offer"
FOLLOW_OFFER_SECONDS = 2 * 3600


def follow_offer(demand_pk: int) -> str:
    """The signed value of a "follow this one" button for an offered duplicate."""
    return signing.TimestampSigner(salt=FOLLOW_SALT).sign(str(demand_pk))


def follow_offer_pk(value: str) -> int:
    """The demand an offer names, or ValidationFailed when it was altered or is too old."""

    try:
        return int(signing.TimestampSigner(salt=FOLLOW_SALT).unsign(value or "", max_age=FOLLOW_OFFER_SECONDS))
    except (signing.BadSignature, ValueError):
        raise ValidationFailed(
            "该提示已过期，请重新提交", "This offer has expired; please submit again", field="follow"
        ) from None


# --- the resident's tracking page ---------------------------------------------------------


class AddInfoForm(forms.Form):
    # Words or photos: the service refuses a submission with neither.
    text = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={**required("请填写补充内容", "Please write what you want to add"), **too_long(2000)},
    )
    photos = forms.Field(required=False, label=_("Photos"))


class ResidentCommentForm(forms.Form):
    body = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写留言内容", "Please write your message"), **too_long(1000)},
    )


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={
            **required("请选择满意程度", "Please choose how satisfied you are"),
            "invalid_choice": both("请选择满意程度", "Please choose how satisfied you are"),
        },
    )
    reason = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    # 问题是否解决？ optional: "yes" / "no", or no answer (None).
    solved = forms.TypedChoiceField(
        required=False,
        choices=[("yes", "是"), ("no", "否")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": both("请选择“是”或“否”", "Please choose yes or no")},
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("satisfaction") == Satisfaction.UNSATISFIED and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason",
                both(
                    "不满意时请说明原因，我们会重新办理", "Please say why you are unsatisfied; it will be handled again"
                ),
            )
        return cleaned
