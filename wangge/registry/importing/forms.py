"""The upload forms of the import jobs: each names the city it goes into (`CityUploadForm`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wangge.registry.importing.reader import EXTENSIONS
from wangge.registry.models import Area


class CityUploadForm(forms.Form):
    """A file for one of the cities the person may import into (`cities`, from `import_cities`)."""

    city = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("City"), empty_label=None)

    def __init__(self, *args: Any, cities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["city"].queryset = cities  # type: ignore[attr-defined]


class ImportUploadForm(CityUploadForm):
    file = forms.FileField(
        label=_("Spreadsheet (.xlsx, .xls or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )
    keep_good = forms.BooleanField(
        label=_("Keep the good rows and report the bad ones (otherwise nothing is written while any row is bad)"),
        required=False,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, code="too_large"
            )
        name = (upload.name or "").lower()
        if not name.endswith(EXTENSIONS):
            raise forms.ValidationError(_("Only .xlsx, .xls or .csv files can be imported."), code="bad_type")
        return upload
