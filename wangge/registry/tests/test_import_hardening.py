"""Imports that used to kill the worker or lose data without a word (issue 15, items 5 and 6).

- a 2 KB xlsx whose sheet reaches XFD1048576 made the reader build a 512 GiB grid and abort the worker;
- a merged header cell stored households without their ID numbers; an extra sheet with an unknown header
  was skipped; corrupt XML said "XmlError: t".
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from wangge.core.errors import ValidationFailed
from wangge.registry.importing import registry_import
from wangge.registry.importing.reader import read_sheets, xlsx_extents
from wangge.registry.models import Household
from wangge.registry.tests.test_import import HEADERS, KEYS, hh, write_xlsx

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="户籍" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def planted(path: Path, sheet_xml: str) -> Path:
    """A hand-made xlsx of one sheet (built here with zipfile: no library would write these)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", SHEET + sheet_xml)
    return path


def test_a_sheet_declaring_the_whole_grid_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = planted(
        tmp_path / "bomb.xlsx",
        '<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>',
    )
    assert path.stat().st_size < 2048
    with pytest.raises(ValidationFailed) as caught:
        read_sheets(path)
    error = caught.value
    assert error.code == "sheet_too_large" and error.field == "file"
    assert "户籍" in error.zh and "1048576" in error.en and "16384" in error.en


def test_a_far_cell_under_a_small_dimension_is_refused_too(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_CELLS = 1000
    path = planted(
        tmp_path / "liar.xlsx",
        '<dimension ref="A1"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="500"><c r="Z500"><v>1</v></c></row></sheetData></worksheet>',
    )
    with pytest.raises(ValidationFailed) as caught:
        read_sheets(path)
    assert caught.value.code == "sheet_too_large"


def test_a_far_cell_is_found_behind_a_namespace_prefix_single_quotes_or_lower_case(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_CELLS = 1000
    prefixed = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        "<x:row r='1'><x:c t='n' r='$a$1'><x:v>1</x:v></x:c><x:c r='zz3'><x:v>1</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>"
    )
    with zipfile.ZipFile(tmp_path / "p.xlsx", "w") as z:
        for name, text in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?>' + prefixed),
        ):
            z.writestr(name, text)
    with pytest.raises(ValidationFailed) as caught:
        xlsx_extents(tmp_path / "p.xlsx")
    assert caught.value.code == "sheet_too_large" and "702" in caught.value.en  # ZZ is column 702, row 3


def test_a_far_cell_behind_a_character_reference_is_refused_too(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_CELLS = 1000
    path = planted(
        tmp_path / "hidden.xlsx",
        '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="&#90;&#90;1"><v>1</v></c></row>'
        '<row r="9"><c r="A9"><v>1</v></c></row></sheetData></worksheet>',
    )
    with pytest.raises(ValidationFailed) as caught:
        xlsx_extents(path)
    assert caught.value.code == "sheet_too_large" and "702" in caught.value.en


def test_an_ordinary_sheet_reports_its_extent(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [hh(1), hh(2)])
    assert xlsx_extents(path) == {"户籍": (3, len(HEADERS))}


def test_corrupt_xml_gets_the_bilingual_message_naming_the_sheet(tmp_path: Path) -> None:
    path = planted(tmp_path / "broken.xlsx", '<sheetData><row r="1"><c r="A1" t')
    with pytest.raises(ValidationFailed) as caught:
        read_sheets(path)
    error = caught.value
    assert error.code == "bad_file" and "户籍" in error.zh and "damaged" in error.en
    assert "XmlError" not in error.en and "XmlError" not in error.zh


@pytest.mark.django_db
def test_data_under_an_empty_header_cell_is_an_error_by_sheet_and_column(tree: Any, tmp_path: Path) -> None:
    # A merged header cell: "户主身份证号" spans two columns, the numbers sit in the second one (no header).
    heads = [*HEADERS[: KEYS.index("head_id") + 1], "", *HEADERS[KEYS.index("head_id") + 1 :]]
    rows = [{**hh(n), "head_id": "", "": hh(n)["head_id"]} for n in (1, 2)]
    result = registry_import(path=write_xlsx(tmp_path / "merged.xlsx", rows, headers=heads), city=tree.city)
    headerless = [p for p in result.errors if p.code == "no_column_header"]
    assert [(p.sheet, p.row, p.column) for p in headerless] == [("户籍", 2, "J"), ("户籍", 3, "J")]
    assert "J" in headerless[0].en and "no header" in headerless[0].en
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_an_extra_sheet_with_data_and_no_known_header_is_an_error(tree: Any, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", [hh(1)])
    wb = openpyxl.load_workbook(path)
    extra = wb.create_sheet("新增住户")
    extra.append(["姓名", "电话"])
    extra.append(["户主9", "13900000009"])
    wb.save(path)
    result = registry_import(path=path, city=tree.city)
    assert [(p.code, p.sheet) for p in result.errors] == [("no_header", "新增住户")]
    assert not Household.objects.exists()
    # An empty extra sheet (Excel's default Sheet2) says nothing.
    wb = openpyxl.load_workbook(path)
    del wb["新增住户"]
    wb.create_sheet("Sheet2")
    wb.save(path)
    assert registry_import(path=path, city=tree.city).errors == []


def test_a_sheet_is_read_one_row_at_a_time_not_held_as_lists(tmp_path: Path) -> None:
    """Item 5's bounded memory: reading a sheet and a pass over it cost the same for 3,000 rows as for
    12,000 (held as lists of Python cells, as before, the cost grew with the rows)."""
    import tracemalloc

    def workbook(rows: int) -> Path:
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("户籍")
        for r in range(rows):
            ws.append([f"镇{r % 7}", f"村{r % 31}", f"第{r}号", f"户主{r}", r, f"1390000{r:04d}", "独居老人"])
        path = tmp_path / f"{rows}.xlsx"
        wb.save(path)
        return path

    def read_and_pass(path: Path) -> tuple[int, int]:
        tracemalloc.start()
        try:
            (sheet,) = read_sheets(path)  # the streamed check of its extents, then calamine
            seen = sum(1 for row in sheet.rows if row[2])
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return seen, peak

    small, big = workbook(3_000), workbook(12_000)
    (seen_small, peak_small), (seen_big, peak_big) = read_and_pass(small), read_and_pass(big)
    assert (seen_small, seen_big) == (3_000, 12_000)
    assert peak_big < 1.5 * peak_small, (peak_small, peak_big)


def test_rows_start_at_a1_whatever_cell_the_data_starts_in(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["C3"] = "户主"
    wb.active["D5"] = 2
    wb.save(tmp_path / "offset.xlsx")
    (sheet,) = read_sheets(tmp_path / "offset.xlsx")
    assert list(sheet.rows) == [
        ["", "", "", ""],
        ["", "", "", ""],
        ["", "", "户主", ""],
        ["", "", "", ""],
        ["", "", "", 2.0],
    ]
    assert sheet.rows[2][2] == "户主" and sheet.rows[3:5] == [["", "", "", ""], ["", "", "", 2.0]]
    assert [i for i, _row in sheet.rows.numbered(3)] == [3, 4]
