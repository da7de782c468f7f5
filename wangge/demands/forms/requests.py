"""The forms of 延期 (extension) and 挂起 (suspension): the holder's request, the decision above, resuming.

Shapes only (required, length, a date); the rules (later than the current deadline, a working day, who may)
are the services' (`demands.services.requests`), whose errors the views put next to the same fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.demands.forms.common import both, required, too_long
from wangge.demands.models import Demand


class _RequestForm(forms.Form):
    """Each form posts the version the page showed, so a stale page gets a clear conflict."""

    move = ""
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, demand: Demand, **kwargs: Any) -> None:
        self.demand = demand
        kwargs.setdefault("prefix", self.move)
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = demand.version


class ExtensionForm(_RequestForm):
    move = "extend"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写延期理由", "Please give the reason for more time"), **too_long(1000)},
    )
    until = forms.DateField(
        label=_("New deadline (date)"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            **required("请选择新的办结日期", "Please choose the new date"),
            "invalid": both("日期格式不对", "Not a valid date"),
        },
    )


class SuspensionForm(_RequestForm):
    move = "suspend"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写挂起理由", "Please give the reason to suspend"), **too_long(1000)},
    )
    until = forms.DateField(
        label=_("Resume on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": both("日期格式不对", "Not a valid date")},
    )


class DecideForm(forms.Form):
    """Approve or refuse the pending request (a refusal needs a reason: the service says so)."""

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    note = forms.CharField(
        label=_("Reason to refuse"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=too_long(1000),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decide")
        super().__init__(*args, **kwargs)


class ResumeForm(_RequestForm):
    move = "resume"


REQUEST_FORMS: dict[str, type[_RequestForm]] = {f.move: f for f in (ExtensionForm, SuspensionForm, ResumeForm)}
