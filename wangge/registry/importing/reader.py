"""Read .xlsx, .xls and .csv files into rows of cells, each row numbered as Excel numbers it."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineWorkbook

from wangge.core.errors import ValidationFailed

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")


@dataclass
class Sheet:
    """One sheet: its name and its rows from A1 (so `rows[i]` is Excel row i + 1)."""

    name: str
    rows: list[list[Any]]


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, the superset of the GBK that Chinese Excel writes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("cannot tell the CSV file's encoding; save it as UTF-8 or GBK"),
            field="file",
            code="bad_encoding",
        ) from None


def read_sheets(path: Path | str, *, name: str | None = None) -> list[Sheet]:
    """Every sheet of a workbook, or the one table of a CSV file (named after the file)."""
    path = Path(path)
    display = name or path.name
    suffix = Path(display).suffix.lower() or path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValidationFailed(
            _("only .xlsx, .xls or .csv files can be imported"),
            field="file",
            code="bad_type",
        )
    if suffix == ".csv":
        text = decode_csv(path.read_bytes())
        rows: list[list[Any]] = list(csv.reader(io.StringIO(text, newline="")))
        return [Sheet(name=Path(display).name, rows=rows)]
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise ValidationFailed(
            _("cannot open the Excel file; it may be damaged or not Excel (%(error)s)"),
            params={"error": type(exc).__name__},
            field="file",
            code="bad_file",
        ) from None
    sheets = []
    for sheet_name in workbook.sheet_names:
        # skip_empty_area=False keeps the rows and columns from A1, so row numbers match Excel's.
        data: list[list[Any]] = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        sheets.append(Sheet(name=sheet_name, rows=data))
    return sheets
