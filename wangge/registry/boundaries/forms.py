"""The upload form of the boundary page: the file, the city, the code attribute, the datum and the text encoding."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wangge.registry.boundaries.readers import AUTO
from wangge.registry.importing.forms import CityUploadForm
from wangge.registry.models import Datum

EXTENSIONS = (".geojson", ".json", ".kml", ".kmz", ".zip")
DATUM_CHOICES = [(AUTO, _("As the file says (GeoJSON and KML: WGS-84; shapefile: its .prj)")), *Datum.choices]
ENCODING_CHOICES = [
    (AUTO, _("As the .cpg file says, else UTF-8")),
    ("utf-8", "UTF-8"),
    ("gbk", "GBK"),
    ("gb18030", "GB18030"),
]


class BoundaryUploadForm(CityUploadForm):
    file = forms.FileField(
        label=_("Boundary file (GeoJSON, KML/KMZ, or a zipped shapefile)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )
    code_field = forms.CharField(
        label=_("Attribute holding the area code"), initial="code", max_length=64, required=False
    )
    datum = forms.ChoiceField(label=_("Coordinate datum"), choices=DATUM_CHOICES, initial=AUTO)
    encoding = forms.ChoiceField(label=_("Attribute text encoding (shapefile)"), choices=ENCODING_CHOICES, initial=AUTO)

    def clean_code_field(self) -> str:
        return (self.cleaned_data.get("code_field") or "").strip() or "code"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.BOUNDARY_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, code="too_large"
            )
        if not (upload.name or "").lower().endswith(EXTENSIONS):
            raise forms.ValidationError(
                _("Only GeoJSON, KML/KMZ or zipped shapefiles (.zip) can be imported."), code="bad_type"
            )
        return upload
