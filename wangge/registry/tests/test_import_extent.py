"""The extent scan of a big sheet: a far cell planted past the first chunk of XML is found, whatever its form.

The scan reads a chunk reference by reference only when a search finds a reference past the extent so far
(or one it cannot read plainly); these sheets are larger than a chunk, so each planted cell is found that way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wangge.registry.importing import reader
from wangge.registry.importing.reader import xlsx_extents
from wangge.registry.tests.test_import_hardening import planted

ROWS = 3000
COLUMNS = "ABCDEFGHIJKL"


def ordinary(far: str, at: int) -> str:
    """3,000 rows of 12 cells (about 1 MB of XML, four chunks) with `far` placed as the last cell of row `at`."""
    out = ["<sheetData>"]
    for r in range(1, ROWS + 1):
        cells = "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>x</t></is></c>' for c in COLUMNS)
        out.append(f'<row r="{r}">{cells}{far if r == at else ""}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out)


def test_the_sheet_is_larger_than_a_chunk() -> None:
    assert len(ordinary("", 0).encode()) > 3 * reader._CHUNK


@pytest.mark.parametrize(
    ("far", "expected"),
    [
        ("", (ROWS, 12)),
        ('<c r="B7000"><v>1</v></c>', (7000, 12)),  # same number of digits as the rows around it
        ('<c r="C1000000"><v>1</v></c>', (1_000_000, 12)),  # more digits
        ('<c r="D09999"><v>1</v></c>', (9999, 12)),  # a leading zero
        ('<c r="M2500"><v>1</v></c>', (ROWS, 13)),  # one column past L
        ('<c r="AB2500"><v>1</v></c>', (ROWS, 28)),
        ('<c r="XFD2500"><v>1</v></c>', (ROWS, 16384)),
        ('<c r="AAAA2500"><v>1</v></c>', (ROWS, 18279)),  # four letters: not a plain reference
        ('<c r="zz2500"><v>1</v></c>', (ROWS, 702)),  # lower case
        ('<c r="$B$8000"><v>1</v></c>', (8000, 12)),  # absolute
        ("<c t='n' r='C9000'><v>1</v></c>", (9000, 12)),  # other attribute order and quotes
    ],
)
def test_a_far_cell_past_the_first_chunk_sets_the_extent(
    far: str, expected: tuple[int, int], tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_CELLS = 10**12  # measured, not refused
    path = planted(tmp_path / "big.xlsx", ordinary(far, at=2500))
    assert xlsx_extents(path) == {"户籍": expected}


def test_a_far_cell_past_the_first_chunk_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_CELLS = 100_000
    path = planted(tmp_path / "big.xlsx", ordinary('<c r="L9000"><v>1</v></c>', at=2800))
    with pytest.raises(Exception) as caught:
        xlsx_extents(path)
    assert getattr(caught.value, "code", None) == "sheet_too_large" and "9000" in caught.value.en  # type: ignore[attr-defined]
