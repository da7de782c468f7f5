"""Input of the visit pages: the one-minute visit form and the opinion follow-up.

Forms check the shape of what was typed; the rules (scope, a demand needs a description, the
follow-up only moves forward) stay in the services, whose errors the views put next to the field
they name (`SERVICE_FIELDS`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.demands.models import Category, Urgency
from wangge.registry.models import CareTag, Household
from wangge.visits.models import FollowUp, How, OpinionCategory
from wangge.visits.services import MAX_NOTES, MAX_OPINION, DemandDraft, OpinionDraft, RegisterDraft

# A service's error field → the field of the visit form that shows it.
SERVICE_FIELDS: dict[str, str] = {
    "household": "household",
    "how": "how",
    "notes": "notes",
    "visited_at": "visited_at",
    "opinions": "opinion_text",
    "opinions.0.text": "opinion_text",
    "opinions.0.category": "opinion_category",
    "demand": "demand_description",
    "demand.description": "demand_description",
    "demand.title": "demand_description",
    "demand.category": "demand_category",
    "demand.urgency": "demand_urgent",
    "demand.photos": "demand_photos",
    "demand.photo": "demand_photos",
    "demand.image": "demand_photos",
    "answer": "answer",
    "state": "state",
    "care_tags": "care_tags",
    "moved_out": "moved_out",
}


class VisitForm(forms.Form):
    """A visit in few taps: the household, how, a few words; an opinion and a demand if there are any."""

    household = forms.ModelChoiceField(
        queryset=Household.objects.none(),
        label=_("Household"),
        error_messages={
            "required": _("Choose the household"),
            "invalid_choice": _("Choose a household in your area"),
        },
    )
    how = forms.ChoiceField(
        choices=How.choices,
        initial=How.IN_PERSON,
        widget=forms.RadioSelect,
        label=_("How"),
        error_messages={"required": _("Choose how you reached them")},
    )
    visited_at = forms.DateTimeField(
        required=False,
        label=_("When (leave empty for now)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"invalid": _("Not a valid date and time")},
    )
    notes = forms.CharField(
        required=False,
        max_length=MAX_NOTES,
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opinion_text = forms.CharField(
        required=False,
        max_length=MAX_OPINION,
        label=_("Opinion or suggestion heard"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    opinion_category = forms.ChoiceField(
        choices=OpinionCategory.choices, initial=OpinionCategory.OTHER, required=False, label=_("About")
    )
    raise_demand = forms.BooleanField(required=False, label=_("Raise a demand for this household"))
    demand_description = forms.CharField(
        required=False, label=_("What needs doing"), widget=forms.Textarea(attrs={"rows": 3})
    )
    demand_category = forms.CharField(required=False, label=_("Category"))
    demand_urgent = forms.BooleanField(required=False, label=_("Urgent"))
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    # The register, updated in the same step (shown when the household was chosen on the workbench):
    # the version the form was opened on, then the care tags and "moved out" as the leader found them.
    register_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    care_tags = forms.MultipleChoiceField(
        required=False, choices=CareTag.choices, widget=forms.CheckboxSelectMultiple, label=_("Care tags")
    )
    moved_out = forms.BooleanField(required=False, label=_("The household has moved out"))

    def __init__(self, *args: Any, households: QuerySet[Household], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = households
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = str(uuid.uuid4())

    def clean_demand_category(self) -> Category | None:
        code = (self.cleaned_data.get("demand_category") or "").strip()
        if not code:
            return None
        found = Category.objects.filter(code=code, is_active=True).first()
        if found is None:
            raise forms.ValidationError(_("Unknown category"))
        return found

    @property
    def wants_demand(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("raise_demand") or (data.get("demand_description") or "").strip())

    def service_kwargs(self, *, photos: list[Any]) -> dict[str, Any]:
        data = self.cleaned_data
        opinions = []
        if (data.get("opinion_text") or "").strip():
            opinions.append(OpinionDraft(text=data["opinion_text"], category=data.get("opinion_category") or "other"))
        demand = None
        if self.wants_demand:
            demand = DemandDraft(
                description=data.get("demand_description") or "",
                category=data.get("demand_category"),
                urgency=Urgency.URGENT if data.get("demand_urgent") else Urgency.NORMAL,
                photos=tuple(photos),
            )
        register = None
        if data.get("register_version") is not None:
            register = RegisterDraft(
                version=data["register_version"],
                care_tags=tuple(data.get("care_tags") or ()),
                moved_out=bool(data.get("moved_out")),
            )
        return {
            "household": data["household"],
            "register": register,
            "how": data["how"],
            "notes": data.get("notes") or "",
            "visited_at": data.get("visited_at"),
            "opinions": opinions,
            "demand": demand,
            "idempotency_key": data.get("idempotency_key") or None,
        }


class FollowUpForm(forms.Form):
    """Adopt an opinion, or answer it (the answer is what the resident is told)."""

    state = forms.ChoiceField(
        choices=[(FollowUp.ADOPTED, _("Adopt")), (FollowUp.ANSWERED, _("Answer"))],
        label=_("Follow-up"),
        error_messages={"required": _("Choose the follow-up")},
    )
    answer = forms.CharField(
        required=False, max_length=MAX_OPINION, label=_("Answer"), widget=forms.Textarea(attrs={"rows": 2})
    )


def attach_error(form: forms.Form, error: Any) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    name = SERVICE_FIELDS.get(error.field or "", error.field or "")
    message = f"{error.zh} / {error.en}"
    if name and name in form.fields:
        form.add_error(name, message)
    else:
        form.add_error(None, message)
