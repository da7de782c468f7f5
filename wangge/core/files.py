"""Private files (photos, attachments, exports) streamed to a reader the view has already allowed.

Uploads and exports hold personal data, so there is no public /media/ URL (config/urls.py): each
app's view checks the reader's scope through its selector, then hands the file to
`private_file_response`. `FileResponse` streams in blocks and closes the file when the response
is closed, so a large export never sits in memory whole.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import NotFound, ValidationFailed


def private_file_response(
    file: FieldFile | Path,
    *,
    filename: str | None = None,
    as_attachment: bool = False,
    cache_control: str = "private, max-age=3600",
    missing: str | Promise | None = None,
) -> FileResponse:
    """The file streamed with its type guessed from its name; `NotFound(missing)` when it is gone.

    `missing` is one translatable message (`gettext_lazy("photo file not found")`) saying what is gone;
    "file not found" by default.

    `filename` is the name offered to the browser (the person's own file name for an attachment);
    by default the stored name, which is generated and says nothing about anyone.
    """
    stored = file.name if isinstance(file, FieldFile) else str(file)
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):  # ValueError: a FieldFile with no file behind it
        raise NotFound(missing if missing is not None else _("file not found")) from None
    response = FileResponse(handle, as_attachment=as_attachment, filename=filename or os.path.basename(stored or ""))
    response["Cache-Control"] = cache_control
    # An uploaded file must be read as what its name says, never sniffed into HTML or script.
    response["X-Content-Type-Options"] = "nosniff"
    return response


def refuse_oversized_upload(request: HttpRequest, limit: int) -> None:
    """Refuse an upload larger than `limit` bytes before Django reads (and spools) its body; a little
    room is left for the form's other fields and the multipart boundaries."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 1024 * 1024:
        raise ValidationFailed(
            _("the file is too large: at most %(megabytes)s MB"),
            params={"megabytes": limit // (1024 * 1024)},
            field="file",
            code="too_large",
        )
