"""Read .xlsx, .xls and .csv files into rows of cells, each row numbered as Excel numbers it.

Before calamine reads an .xlsx, `xlsx_extents` walks each sheet's XML as a stream (bounded memory):
its declared `<dimension>` and the farthest cell it really holds. A sheet whose grid from A1 would pass
`IMPORT_MAX_CELLS` is refused by name: a 2 KB file whose one cell sits at XFD1048576 once asked for a
512 GiB grid and aborted the worker. Damaged XML is refused in both languages too.

A sheet's rows are not held as Python lists: `Rows` makes them again, one at a time, on each pass over
the sheet (calamine keeps its compact cells; a CSV keeps its text). A 52 MB workbook once cost 3.5 GB
as lists of Python cells; now a pass holds one row.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineWorkbook

from wangge.core.errors import ValidationFailed

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")


class Rows:
    """A sheet's rows from A1 (so row i is Excel row i + 1), made afresh on each pass: bounded memory.

    Iterate it for a pass; `len()` is the number of rows; `rows[i]` and `rows[a:b]` read up to that row
    (for the header near the top); `rows.numbered(start)` gives (index, cells) from a row on.
    """

    def __init__(self, source: Callable[[], Iterator[list[Any]]], length: int, width: int | None = None) -> None:
        self._source = source
        self._length = length
        self.width = width  # every row's number of cells, when the reader knows it (calamine's grid)

    @classmethod
    def of(cls, rows: list[list[Any]]) -> Rows:
        return cls(lambda: iter(rows), len(rows))

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[list[Any]]:
        return self._source()

    def numbered(self, start: int = 0) -> Iterator[tuple[int, list[Any]]]:
        return enumerate(islice(self._source(), start, None), start=start)

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):  # islice refuses negative bounds: rows are read forward only
            return list(islice(self._source(), key.start, key.stop, key.step))
        if key < 0:
            raise IndexError("rows are read forward only")
        for row in islice(self._source(), key, key + 1):
            return row
        raise IndexError(key)


@dataclass
class Sheet:
    """One sheet: its name and its rows from A1 (so `rows[i]` is Excel row i + 1)."""

    name: str
    rows: Rows


def _calamine_rows(sheet: Any) -> Rows:
    """calamine's rows start at A1 but its columns at the first used one: pad them back to column A."""
    if sheet.end is None:
        return Rows.of([])
    pad = [""] * sheet.start[1]

    def source() -> Iterator[list[Any]]:
        if not pad:
            return iter(sheet.iter_rows())
        return ([*pad, *row] for row in sheet.iter_rows())

    return Rows(source, sheet.end[0] + 1, sheet.end[1] + 1)


def _csv_rows(text: str) -> Rows:
    length = sum(1 for _row in csv.reader(io.StringIO(text, newline="")))
    return Rows(lambda: csv.reader(io.StringIO(text, newline="")), length)


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


_REF = re.compile(r"([A-Z]{1,3})?(\d+)?")
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _ref(ref: str) -> tuple[int, int]:
    """ "XFD1048576" → (1048576, 16384): the row and column numbers of a cell reference (0 for a missing part)."""
    match = _REF.fullmatch(ref.strip().replace("$", "").upper())
    if match is None:
        return 0, 0
    letters, digits = match.groups()
    col = 0
    for ch in letters or "":
        col = col * 26 + ord(ch) - 64
    return int(digits or 0), col


def _sheet_parts(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """(sheet name, part path) for each worksheet the workbook lists."""
    workbook = archive.read("xl/workbook.xml")
    rels = {
        el.get("Id"): el.get("Target", "")
        for _event, el in iterparse(io.BytesIO(archive.read("xl/_rels/workbook.xml.rels")))
        if el.tag.endswith("}Relationship")
    }
    for _event, el in iterparse(io.BytesIO(workbook)):
        if el.tag.endswith("}sheet"):
            target = rels.get(el.get(_NS_REL), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            yield el.get("name", part), part


def _cells_limit() -> int:
    return int(getattr(settings, "IMPORT_MAX_CELLS", 10_000_000))


def _too_large(sheet: str, rows: int, cols: int) -> ValidationFailed:
    return ValidationFailed(
        _(
            "sheet '%(sheet)s' reaches row %(rows)s and column %(cols)s: at most %(limit)s cells can be read; "
            "delete the empty rows and columns at its end"
        ),
        params={"sheet": sheet, "rows": rows, "cols": cols, "limit": _cells_limit()},
        field="file",
        code="sheet_too_large",
    )


def _damaged(sheet: str) -> ValidationFailed:
    return ValidationFailed(
        _("sheet '%(sheet)s' of the Excel file is damaged and cannot be read; save it again in Excel or WPS"),
        params={"sheet": sheet},
        field="file",
        code="bad_file",
    )


# What the extent scan looks for in a sheet's XML, with or without a namespace prefix: cell and row
# references and the declared dimension. Regular expressions over the raw bytes cost a fraction of an
# element tree (which spent several µs a cell: more than calamine's whole read). The plain forms that
# Excel, WPS and openpyxl write are matched by literal prefixes; the general forms only where a chunk
# holds prefixed tags or other attribute orders. XML that is not well formed is left to calamine, whose
# error names the sheet the same way (`read_sheets`); the references it could place are bounded here.
_PLAIN_CELL_REFS = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_CELL_REFS = re.compile(rb"""<(?:[\w.-]+:)?c\s[^>]*?\br\s*=\s*["']\$?([A-Za-z]{1,4})\$?([0-9]{1,10})["']""")
_ODD_CELL = re.compile(rb'<c (?!r=")')
_PLAIN_ROW_REFS = re.compile(rb'<row r="([0-9]{1,7})"')
_ROW_REFS = re.compile(rb"""<(?:[\w.-]+:)?row\s[^>]*?\br\s*=\s*["']([0-9]{1,10})["']""")
_ROWS = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']""")
# 256 KB of XML at a time: its cell references as Python objects cost about six times that, whatever the sheet.
_CHUNK = 1 << 18


def _column_number(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col


class _Unusual(Exception):
    """The sheet's XML needs an XML parser to be read right (`_sheet_extent_tree`)."""


def _sheet_extent_tree(stream: Any, name: str, limit: int) -> tuple[int, int]:
    """The slow, sure way: every element through the XML parser (character references decoded)."""
    rows = cols = 0
    data = None
    for event, el in iterparse(stream, events=("start", "end")):
        tag = el.tag.rsplit("}", 1)[-1]
        if event == "start":
            if tag == "sheetData":
                data = el
            elif tag == "dimension":
                rows, cols = _ref(el.get("ref", "A1").rsplit(":", 1)[-1])
                if rows * cols > limit:
                    raise _too_large(name, rows, cols)
                rows = cols = 0  # the cells themselves decide from here
            continue
        if tag == "c":
            r, c = _ref(el.get("r", ""))
            rows, cols = max(rows, r), max(cols, c)
        elif tag == "row":
            rows = max(rows, int(el.get("r") or rows + 1))
            if rows * cols > limit:
                raise _too_large(name, rows, cols)
            if data is not None:
                data.clear()  # bounded memory: the rows already counted are dropped
    if rows * cols > limit:
        raise _too_large(name, rows, cols)
    return rows, cols


def _letters(col: int) -> str:
    """12 → "L", 28 → "AB": a column number as Excel's letters."""
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def _beyond(cols: int, rows: int) -> re.Pattern[bytes]:
    """A plain cell reference past column `cols` or row `rows`, or one the plain pattern cannot read.

    Searching for it costs no Python object per cell (a `findall` made two a cell, most of the scan's time);
    only a chunk where it matches is read reference by reference. Row numbers with a leading zero count
    as past (read exactly then); so do references of four letters or eight digits.
    """
    letters = _letters(cols)
    wide = [f"[A-Z]{{{len(letters) + 1},3}}"] if len(letters) < 3 else []
    wide += [
        f"{letters[:i]}[{chr(ord(ch) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}"
        for i, ch in enumerate(letters)
        if ch < "Z"
    ]
    if not letters:
        wide = ["[A-Z]{1,3}"]
    digits = str(rows)
    tall = [f"[1-9][0-9]{{{len(digits)},}}", "0[0-9]*"]
    tall += [f"{digits[:i]}[{int(d) + 1}-9][0-9]{{{len(digits) - i - 1}}}" for i, d in enumerate(digits) if d != "9"]
    return re.compile(
        rb'<c r="(?:(?![A-Z]{1,3}[0-9]{1,7}")|(?:'
        + "|".join(wide).encode()
        + rb")[0-9]|[A-Z]{1,3}(?:"
        + "|".join(tall).encode()
        + rb')")'
    )


def _sheet_extent(stream: Any, name: str, limit: int) -> tuple[int, int]:
    """(rows, columns) of one sheet's XML stream, read in chunks (bounded memory); refuses as it goes."""
    rows = cols = rows_seen = 0
    dimension_seen = False
    carry = b""
    while True:
        block = stream.read(_CHUNK)
        data = carry + block
        cut = data.rfind(b">") + 1 if block else len(data)
        chunk, carry = data[:cut], data[cut:]
        if not dimension_seen and (found := _DIMENSION.search(chunk)):
            r, c = _ref(found.group(1).decode("ascii", "replace").rsplit(":", 1)[-1])
            if r * c > limit:
                raise _too_large(name, r, c)
        dimension_seen = dimension_seen or b"sheetData" in chunk  # it comes before the data, if at all
        if b"&#" in chunk:
            raise _Unusual  # a reference may hide behind a character reference: read it as a tree
        # A colon is rare in a sheet's data: one pass finds there is none, else the prefixed tags are looked for.
        general = b":" in chunk and (b":c " in chunk or b":row" in chunk)
        # One count for "<row " and "<row>" (a "<rowBreaks" or "<row/>" makes it differ from the plain
        # references found, and the chunk is read the general way).
        plain_rows = chunk.count(b"<row")
        numbered = _PLAIN_ROW_REFS.findall(chunk)
        if general or len(numbered) != plain_rows:
            numbered = _ROW_REFS.findall(chunk)
            plain_rows = len(_ROWS.findall(chunk))
        if numbered:
            rows = max(rows, max(map(int, numbered)))
        rows_seen += plain_rows
        rows = max(rows, rows_seen)  # rows without a number follow one another
        refs: list[tuple[bytes, bytes]] = []
        # One search for a "<c " that does not go on with r=" (two counts compared before, one pass more).
        if general or _ODD_CELL.search(chunk):
            refs = _CELL_REFS.findall(chunk)
        elif b'<c r="' in chunk and _beyond(cols, rows).search(chunk):
            refs = _PLAIN_CELL_REFS.findall(chunk)
            if len(refs) != chunk.count(b'<c r="'):
                refs = _CELL_REFS.findall(chunk)
        if refs:
            cols = max(cols, *(_column_number(x) for x in {x for x, _ in refs}))
            rows = max(rows, *(int(x) for x in {x for _, x in refs}))
        if rows * cols > limit:
            raise _too_large(name, rows, cols)
        if not block:
            return rows, cols


def xlsx_extents(path: Path) -> dict[str, tuple[int, int]]:
    """Each sheet's (rows, columns) from A1 to its farthest cell, read as a stream; refuses an absurd one."""
    limit = _cells_limit()
    extents: dict[str, tuple[int, int]] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return extents  # not a zip (an .xls renamed): calamine says what it is
    with archive:
        try:
            parts = list(_sheet_parts(archive))
        except (KeyError, ValueError, ParseError):
            raise _damaged("workbook") from None
        for name, part in parts:
            try:
                try:
                    with archive.open(part) as stream:
                        extents[name] = _sheet_extent(stream, name, limit)
                except _Unusual:
                    with archive.open(part) as stream:
                        extents[name] = _sheet_extent_tree(stream, name, limit)
            except ValidationFailed:
                raise
            except (KeyError, ValueError, ParseError, zipfile.BadZipFile, EOFError, OSError):
                raise _damaged(name) from None
    return extents


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
        return [Sheet(name=Path(display).name, rows=_csv_rows(decode_csv(path.read_bytes())))]
    if suffix in (".xlsx", ".xlsm"):
        xlsx_extents(path)  # refuses an absurd or damaged sheet before calamine builds any grid
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
        try:
            rows = _calamine_rows(workbook.get_sheet_by_name(sheet_name))
        except Exception:  # calamine's XmlError and kin: "XmlError: t" tells a clerk nothing
            raise _damaged(sheet_name) from None
        sheets.append(Sheet(name=sheet_name, rows=rows))
    return sheets
