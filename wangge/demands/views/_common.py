"""What the demand pages share: service errors shown next to fields, private responses, photo files."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy

from wangge.core.errors import WanggeError
from wangge.core.files import private_file_response
from wangge.demands import forms as f
from wangge.demands.models import DemandPhoto
from wangge.registry.models import Level

# A QR sheet per grid; a town's thousand grids would be a print job nobody wants from one click.
SHEET_LEVELS = (Level.VILLAGE, Level.BRANCH, Level.GRID)


def attach_error(form: Any, error: WanggeError) -> None:
    """Show a service's error next to the field it names (or above the form when it names none)."""
    field = error.field if error.field in form.fields else f.FIELD_ALIASES.get(error.field or "", error.field)
    message = f"{error.zh} / {error.en}"
    if field and field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, message)


R = TypeVar("R", bound=HttpResponseBase)


def _private(response: R) -> R:
    # Pages reached by a private token: never cached by a proxy, never indexed.
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _serve_photo(photo: DemandPhoto) -> FileResponse:
    return private_file_response(photo.image, missing=gettext_lazy("photo file not found"))
