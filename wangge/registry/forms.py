"""The grid leader's household form (a phone's width): the shape of what was typed.

The rules (phone, ID number, members, tags, who may, the version) stay in
`registry.services.household_update`; the view puts its errors next to the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.registry.models import Area, CareTag, Household, HouseholdMember, MemberStatus
from wangge.registry.services import MemberDraft


class HouseholdForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    head_name = forms.CharField(label=_("Head of household"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=400)
    members = forms.CharField(label=_("Members"), max_length=4, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("Leave as shown to keep the number on record"),
    )
    head_id_number = forms.CharField(
        label=_("Head's ID number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the number on record; a new one is stored encrypted"),
    )
    care_tags = forms.MultipleChoiceField(
        label=_("Care tags"), required=False, choices=CareTag.choices, widget=forms.CheckboxSelectMultiple
    )
    moved_out = forms.BooleanField(label=_("The household has moved out"), required=False)
    head_deceased = forms.BooleanField(label=_("The head of household has died"), required=False)
    to_grid = forms.ModelChoiceField(
        queryset=Area.objects.none(),
        required=False,
        label=_("Move to another grid of the village (the village approves)"),
        empty_label=_("No move"),
    )
    reason = forms.CharField(label=_("Reason for the move"), required=False, max_length=400)

    def __init__(self, *args: Any, household: Household, targets: QuerySet[Area], **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "version": household.version,
                "head_name": household.head_name,
                "address": household.address,
                "members": household.members,
                "phone": household.phone_masked,
                "care_tags": household.tag_list,
                "moved_out": household.moved_out,
                "head_deceased": household.head_deceased,
            },
        )
        super().__init__(*args, **kwargs)
        field = self.fields["to_grid"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = targets
        self.household = household

    def service_kwargs(self) -> dict[str, Any]:
        """What to pass to `household_update`: a phone left masked as shown is not changed."""
        data = self.cleaned_data
        phone = (data.get("phone") or "").strip()
        return {
            "version": data["version"],
            "head_name": data["head_name"],
            "address": data["address"],
            "members": data["members"],
            "phone": None if phone == self.household.phone_masked else phone,
            "head_id_number": (data.get("head_id_number") or "").strip() or None,
            "care_tags": list(data.get("care_tags") or []),
            "moved_out": bool(data.get("moved_out")),
            "head_deceased": bool(data.get("head_deceased")),
        }


class MemberForm(forms.Form):
    """One person of the household: an empty extra row is skipped."""

    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Person's name"), required=False, max_length=100)
    relation = forms.CharField(label=_("Relation"), required=False, max_length=40)
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices, initial=MemberStatus.LIVING)


MemberFormSet = forms.formset_factory(MemberForm, extra=1, max_num=60, validate_max=True)


def people_formset(data: Any, people: list[HouseholdMember]) -> Any:
    initial = [{"pk": m.pk, "name": m.name, "relation": m.relation, "status": m.status} for m in people]
    return MemberFormSet(data, initial=initial, prefix="people")


def people_drafts(formset: Any) -> list[MemberDraft]:
    """The people as typed: rows on record (with their pk) and new rows with a name."""
    drafts = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("pk") is None and not (data.get("name") or "").strip():
            continue
        drafts.append(
            MemberDraft(
                pk=data.get("pk"),
                name=data.get("name") or "",
                relation=data.get("relation") or "",
                status=data.get("status") or MemberStatus.LIVING,
            )
        )
    return drafts


def attach_error(form: forms.Form, error: Any) -> None:
    """A service's error (both languages) next to the field it names, or above the form."""
    message = f"{error.zh} / {error.en}"
    field = form.fields.get(error.field or "")
    if field is not None and not isinstance(field.widget, forms.HiddenInput):
        form.add_error(error.field, message)
    else:
        form.add_error(None, message)
