"""Forms of urging (督办/催办) and co-handling (协办) on the staff demand page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.demands.forms.common import both, model_field, required, too_long
from wangge.demands.models import Demand, DemandAssist
from wangge.registry.models import Department


class UrgeForm(forms.Form):
    """What the urging level asks of the holder (optional: the urge itself is the message)."""

    note = forms.CharField(
        label=_("What you ask of the holder"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=too_long(1000),
    )


class AssistAddForm(forms.Form):
    """The holder names an assisting department of the demand's city and its task."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    department = forms.ModelChoiceField(
        label=_("Assisting department"),
        queryset=Department.objects.none(),
        error_messages={
            **required("请选择协办部门", "Please choose the assisting department"),
            "invalid_choice": both("不能选择该部门", "That department cannot assist here"),
        },
    )
    task = forms.CharField(
        label=_("Its task"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请写明协办任务", "Please write the task"), **too_long(2000)},
    )

    def __init__(self, *args: Any, demand: Demand, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = demand.version
        # The city's active departments, less the lead and those already assisting.
        city_path = demand.area_path.split("/", 1)[0] + "/"
        taken = DemandAssist.objects.filter(demand=demand).values("department_id")
        choices = Department.objects.filter(area_path=city_path, is_active=True).exclude(pk__in=taken)
        if demand.holder_department_id:
            choices = choices.exclude(pk=demand.holder_department_id)
        model_field(self, "department").queryset = choices.order_by("code")


class AssistReplyForm(forms.Form):
    """An assisting department's one reply."""

    reply = forms.CharField(
        label=_("Reply"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写协办回复", "Please write the reply"), **too_long(2000)},
    )
