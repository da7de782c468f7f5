"""What the demand forms share: bilingual field errors, the service-field map, category, phone and place."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.phones import clean_phone
from wangge.core.photos import MAX_PHOTOS
from wangge.demands.models import Category
from wangge.registry.models import Datum

# Where a service's error `field` is shown on the pages (service names → form field names).
FIELD_ALIASES: dict[str, str] = {
    "reporter_phone": "phone",
    "reporter_name": "name",
    "lat": "place",
    "lng": "place",
    "location": "place",
    "point": "place",
    "grid": "place",
    "area": "place",
    "household": "place",
    "address": "place",
    "photo": "photos",
    "image": "photos",
    "result": "result",
    "resolution": "result",
    "to_area": "to_area",
    "to_user": "to_user",
    "department": "department",
    "into": "into",
    "text": "text",
    "satisfaction": "satisfaction",
    "rating_reason": "reason",
}


def model_field(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """A form's model choice field, typed (its queryset is set per demand or per user)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


def both(zh: str, en: str) -> str:
    """One bilingual message, Chinese first, as every error a person reads."""
    return f"{zh} / {en}"


def required(zh: str, en: str) -> dict[str, str]:
    return {"required": both(zh, en)}


def too_long(max_length: int) -> dict[str, str]:
    return {"max_length": both(f"最多 {max_length} 个字", f"At most {max_length} characters")}


def make_title(description: str, limit: int = 30) -> str:
    """A title from the first sentence of what the resident wrote (they are not asked for one)."""
    text = " ".join(description.split())
    for stop in "。！？!?\n":
        if stop in text:
            text = text.split(stop, 1)[0]
    return text[:limit] or description[:limit]


def category_groups() -> list[dict[str, Any]]:
    """Active categories for a select: one group per first level, its own code first ("other")."""
    groups: list[dict[str, Any]] = []
    parents = Category.objects.filter(parent__isnull=True, is_active=True).prefetch_related("children")
    for parent in parents.order_by("sort", "code"):
        children = sorted((c for c in parent.children.all() if c.is_active), key=lambda c: (c.sort, c.code))
        options = [(c.code, c.name) for c in children] + [(parent.code, f"{parent.name}（其他）")]
        groups.append({"name": parent.name, "options": options})
    return groups


def clean_category_code(code: str) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise forms.ValidationError(both("未知的诉求类别，请重新选择", "Unknown category; please choose again"))
    return category


def clean_phone_value(raw: str, *, required_: bool) -> str:
    """`core.phones.clean_phone`, its refusal shown next to the form field."""
    try:
        return clean_phone(
            raw,
            required=required_,
            missing=_("Please give a phone number so that staff can reach you"),
        )
    except ValidationFailed as exc:
        raise forms.ValidationError(both(exc.zh, exc.en)) from None


def photo_count_error(files: list[Any]) -> str | None:
    if len(files) > MAX_PHOTOS:
        return both(f"一次最多上传 {MAX_PHOTOS} 张照片", f"At most {MAX_PHOTOS} photos can be uploaded at once")
    return None


class PlaceMixin(forms.Form):
    """A place: a grid (from a QR code or the list), a village or town, or a point from the phone."""

    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    # The browser's geolocation is WGS-84; a link from WeChat carries its GCJ-02 point with datum=gcj02.
    datum = forms.ChoiceField(required=False, widget=forms.HiddenInput, choices=Datum.choices)
    address = forms.CharField(required=False, max_length=300, error_messages=too_long(300))

    def clean_datum(self) -> str:
        return self.cleaned_data.get("datum") or Datum.WGS84

    def clean_lat(self) -> float | None:
        return self._coordinate("lat")

    def clean_lng(self) -> float | None:
        return self._coordinate("lng")

    def _coordinate(self, name: str) -> float | None:
        value = self.cleaned_data.get(name)
        return None if value is None else float(value)

    def clean_point(self, cleaned: dict[str, Any]) -> None:
        lat, lng = cleaned.get("lat"), cleaned.get("lng")
        if (lat is None) != (lng is None):
            self.add_error("place", both("定位不完整，请重新定位", "The location is incomplete; please locate again"))
