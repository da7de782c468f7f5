"""Cells written to spreadsheets as text, never as formulas (formula injection, CWE-1236).

A resident's title, address or name, and every area or category name, is typed by someone staff do
not control. Written as it is, a value starting with `=` becomes a live formula in the workbook
(openpyxl stores it as one) and `+`, `-`, `@`, a tab or a carriage return turn into one as soon as a
clerk edits the cell in Excel or WPS (HYPERLINK exfiltration, DDE). Every xlsx and csv writer goes
through this module:

- xlsx: `text_row(ws, values)` gives cells whose strings are stored as strings (data type `s`), and
  those that start like a formula also carry Excel's quote prefix (the `'` a person would type), so
  editing the cell keeps it text. The value itself is unchanged: the file shows exactly what was typed.
- csv: `csv_row(values)` prefixes such strings with `'`, as OWASP advises (csv has no cell types).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

# What Excel, WPS and LibreOffice read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def text_cell(ws: Worksheet | WriteOnlyWorksheet, value: Any) -> Cell:
    """One cell; a string is stored as a string, whatever it starts with. Numbers and dates stay typed."""
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=…" a formula
        if looks_like_formula(value):
            cell.quotePrefix = True
    return cell


def text_row(ws: Worksheet | WriteOnlyWorksheet, values: Iterable[Any]) -> list[Cell]:
    """A row for `ws.append(...)` (normal and write-only worksheets alike)."""
    return [text_cell(ws, value) for value in values]


def csv_text(value: Any) -> Any:
    """A csv field: a string that starts like a formula gets a leading `'`; other values pass."""
    return "'" + value if looks_like_formula(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for `csv.writer(...).writerow(...)`."""
    return [csv_text(value) for value in values]
