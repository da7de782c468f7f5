"""Reading a file of WeCom (企业微信) user ids: .csv (UTF-8 or GBK) or .xlsx/.xls, first sheet.

Only the reading lives here; checking and writing is `accounts.services.user_import_wecom_ids`.
(The registry's reader does the same for household workbooks, but accounts sits below registry.)
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed

EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".xls")


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # the superset of the GBK that Chinese Excel writes
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("cannot tell the CSV file's encoding; save it as UTF-8 or GBK"), field="file", code="bad_encoding"
        ) from None


def read_rows(path: Path | str) -> tuple[str, list[list[Any]]]:
    """The sheet's name and its rows from A1 (so `rows[i]` is spreadsheet row i + 1)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValidationFailed(_("only .xlsx, .xls or .csv files can be imported"), field="file", code="bad_type")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            _("cannot read the file: %(error)s"), params={"error": exc.strerror or exc}, field="file"
        ) from None
    if suffix == ".csv":
        return path.name, list(csv.reader(io.StringIO(_decode(data), newline="")))
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = workbook.sheet_names[0]
        rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception:  # calamine raises its own error types for damaged files
        raise ValidationFailed(
            _("cannot open the Excel file; it may be damaged or not Excel"), field="file", code="bad_file"
        ) from None
    return name, rows
