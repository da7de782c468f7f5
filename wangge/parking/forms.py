"""Input of parking pages and the back office: tariffs as people write them, the warden's form, what-if."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed, render_both
from wangge.parking.fees import (
    TariffRules,
    check_rules,
    fen_from_yuan,
    parse_steps,
    parse_windows,
    steps_to_text,
    windows_to_text,
    yuan,
)
from wangge.parking.models import ParkingLot, Tariff, Zone
from wangge.parking.services import rules_from

STEPS_HELP = _(
    "One step a line: from minute-to minute, yuan per hour, billing unit in minutes; leave the last "
    "step's end empty. Example: 0-60 2 30 / 60-180 3 60 / 180- 5 60"
)
# Form field that each part of the fee rules is reported on.
_FIELD_OF = {
    "steps": "steps_text",
    "peak_steps": "peak_steps_text",
    "peak_windows": "peak_windows_text",
    "day_cap_fen": "day_cap_yuan",
    "night_fen_per_hour": "night_yuan_per_hour",
}


def _report(form: forms.Form, exc: ValidationFailed) -> None:
    """Put a service error on the form field it names, each problem on its own line."""
    name = _FIELD_OF.get(exc.field or "", exc.field or "")
    target = name if name in form.fields else None
    if exc.problems:
        for p in exc.problems:
            form.add_error(target, f"{p.zh} / {p.en}")
    else:
        form.add_error(target, f"{exc.zh} / {exc.en}")


class TariffRulesForm(forms.Form):
    """The fee rules of a tariff, typed in plain lines (shared by the back office and the what-if page)."""

    free_minutes = forms.IntegerField(label=_("Free minutes"), min_value=0, max_value=1440, initial=15)
    free_deducted = forms.BooleanField(label=_("Deduct the free minutes from a longer stay"), required=False)
    steps_text = forms.CharField(
        label=_("Hourly steps"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=STEPS_HELP,
        initial="0-60 2 30\n60-180 3 60\n180- 5 60",
    )
    day_cap_yuan = forms.CharField(label=_("Day cap (yuan)"), required=False, initial="20")
    peak_windows_text = forms.CharField(
        label=_("Peak windows"), required=False, help_text=_("e.g. 07:30-09:30, 17:00-19:00")
    )
    peak_days = forms.ChoiceField(
        label=_("Peak days"), choices=[("workday", _("Working days")), ("daily", _("Every day"))], initial="workday"
    )
    peak_multiplier_pct = forms.IntegerField(
        label=_("Peak multiplier (%)"), min_value=100, max_value=500, initial=100, help_text=_("150 means 1.5 times")
    )
    peak_steps_text = forms.CharField(
        label=_("Own peak steps (instead of the multiplier)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    night_start = forms.TimeField(label=_("Night starts"), required=False)
    night_end = forms.TimeField(label=_("Night ends"), required=False)
    night_yuan_per_hour = forms.CharField(label=_("Night price per hour (yuan)"), required=False)

    rules_fields = (
        "free_minutes",
        "free_deducted",
        "steps_text",
        "day_cap_yuan",
        "peak_windows_text",
        "peak_days",
        "peak_multiplier_pct",
        "peak_steps_text",
        "night_start",
        "night_end",
        "night_yuan_per_hour",
    )

    def build_rules(self, name: str = "") -> TariffRules | None:
        """The rules from cleaned data, or None with the problems put on their fields."""
        d = self.cleaned_data
        try:
            cap = d.get("day_cap_yuan")
            night = d.get("night_yuan_per_hour")
            windows = parse_windows(d.get("peak_windows_text") or "", days=d.get("peak_days") or "workday")
            peak_steps = parse_steps(d["peak_steps_text"], field_name="peak_steps") if d.get("peak_steps_text") else []
            rules = rules_from(
                steps=parse_steps(d.get("steps_text") or ""),
                free_minutes=d.get("free_minutes") or 0,
                free_deducted=bool(d.get("free_deducted")),
                day_cap_fen=fen_from_yuan(cap, field_name="day_cap_fen") if cap not in (None, "") else None,
                peak_windows=windows,
                peak_multiplier_pct=d.get("peak_multiplier_pct") or 100,
                peak_steps=peak_steps,
                night_start=d.get("night_start"),
                night_end=d.get("night_end"),
                night_fen_per_hour=fen_from_yuan(night, field_name="night_fen_per_hour")
                if night not in (None, "")
                else None,
                name=name,
            )
            check_rules(rules)
        except ValidationFailed as exc:
            _report(self, exc)
            return None
        return rules


def rules_initial(tariff: Tariff) -> dict[str, Any]:
    """Form initial values showing a saved tariff the way people type it."""
    r = tariff.rules()
    return {
        "free_minutes": r.free_minutes,
        "free_deducted": r.free_deducted,
        "steps_text": steps_to_text(r.steps),
        "day_cap_yuan": yuan(r.day_cap_fen) if r.day_cap_fen is not None else "",
        "peak_windows_text": windows_to_text(r.peak_windows),
        "peak_days": r.peak_windows[0].days if r.peak_windows else "workday",
        "peak_multiplier_pct": r.peak_multiplier_pct,
        "peak_steps_text": steps_to_text(r.peak_steps),
        "night_start": r.night_start,
        "night_end": r.night_end,
        "night_yuan_per_hour": yuan(r.night_fen_per_hour) if r.night_fen_per_hour is not None else "",
    }


class TariffAdminForm(forms.ModelForm, TariffRulesForm):
    """The back office's tariff form: the rules in plain lines, saved through tariff_save."""

    class Meta:
        model = Tariff
        fields = ("name", "valid_from", "is_active", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial.update(rules_initial(self.instance))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            self.rules = self.build_rules(name=data.get("name") or "")
        return data


class WardenForm(forms.Form):
    """A warden records a car arriving or leaving by its plate; the hidden event id makes a double tap harmless."""

    lot = forms.ModelChoiceField(label=_("Lot"), queryset=ParkingLot.objects.none())
    plate = forms.CharField(
        label=_("Plate"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "湘A12345"}),
    )
    event_id = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, lots: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lot"]).queryset = (
            lots if lots is not None else ParkingLot.objects.none()
        )
        if not self.is_bound:
            self.initial.setdefault("event_id", uuid.uuid4().hex)


class WhatIfForm(TariffRulesForm):
    """Which stays to replay (a lot or a zone, a period) and the tariff to try on them."""

    lot = forms.ModelChoiceField(label=_("Lot"), queryset=ParkingLot.objects.none(), required=False)
    zone = forms.ChoiceField(label=_("Zone"), choices=[("", _("All zones")), *Zone.choices], required=False)
    # An <input type=date> reads and writes ISO dates only: never the locale's 2026/11/01.
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    tariff = forms.ModelChoiceField(
        label=_("Proposed tariff"),
        queryset=Tariff.objects.none(),
        required=False,
        help_text=_("Pick a saved tariff, or leave empty and edit the steps below"),
    )
    elasticity = forms.FloatField(
        label=_("Duration elasticity"),
        min_value=-2.0,
        max_value=0.0,
        initial=-0.3,
        # xgettext:no-python-format
        help_text=_("How much stays shorten when fees rise: -0.3 means 10% dearer, 3% shorter"),
    )

    def __init__(self, *args: Any, lots: Any = None, tariffs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.rules_fields:
            self.fields[name].required = False  # a saved tariff may be picked instead
        cast(forms.ModelChoiceField, self.fields["lot"]).queryset = (
            lots if lots is not None else ParkingLot.objects.none()
        )
        cast(forms.ModelChoiceField, self.fields["tariff"]).queryset = (
            tariffs if tariffs is not None else Tariff.objects.none()
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", " / ".join(render_both(_("the end is before the start"))))
            elif (end - start) > dt.timedelta(days=92):
                self.add_error("end", " / ".join(render_both(_("replay at most 92 days at a time"))))
        return data

    def proposed(self) -> tuple[TariffRules, str] | None:
        """The tariff to try: the chosen saved one, or the rules typed in the form."""
        tariff = self.cleaned_data.get("tariff")
        if tariff is not None:
            return tariff.rules(), tariff.name
        rules = self.build_rules(name="自定义方案")
        return (rules, "自定义方案") if rules is not None else None
