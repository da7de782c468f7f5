"""The verifier's two forms on a demand waiting for verification (核查): confirm on site, send back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.demands.forms.common import required, too_long
from wangge.demands.forms.staff import MoveForm


class VerifyForm(MoveForm):
    """核查通过: a note (optional) and the photos taken on site (at least one; the service says so)."""

    move = "verify"
    note = forms.CharField(
        label=_("What you saw on site"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=too_long(2000),
    )
    photos = forms.Field(required=False, label=_("Photos taken on site"))

    def service_kwargs(self) -> dict[str, Any]:
        return {"note": self.cleaned_data.get("note", "")}


class VerifyBackForm(MoveForm):
    """退回重办: the reason the holder reads (photos of what is still wrong are optional)."""

    move = "verify_back"
    reason = forms.CharField(
        label=_("What is still wrong"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请写明退回重办的原因", "Please say why it goes back"), **too_long(2000)},
    )
    photos = forms.Field(required=False, label=_("Photos"))

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"]}


VERIFY_FORMS: dict[str, type[MoveForm]] = {VerifyForm.move: VerifyForm, VerifyBackForm.move: VerifyBackForm}
