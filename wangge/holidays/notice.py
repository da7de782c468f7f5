"""The text format of a year's holiday notice (国务院办公厅关于部分节假日安排的通知), and its checks.

One line per holiday period and one per adjusted working day (or run of them), comma-separated,
UTF-8 (GB18030 from Excel/WPS is accepted too); see docs/holidays.md and samples/2026.csv:

    # 国务院办公厅关于2026年部分节假日安排的通知
    kind,name,first,last
    holiday,元旦,2026-01-01,2026-01-03
    workday,元旦,2026-01-04

- `kind`: `holiday` (放假) or `workday` (上班, 调休上班 — an adjusted working Saturday or Sunday);
- `name`: the festival (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节 …);
- `first`, `last`: dates written YYYY-MM-DD; `last` may be left out for a single day.

Lines starting with `#` are comments (they become the year's note); blank lines are ignored; the header
line is optional. Nothing here writes: `check_notice` returns the days and every problem, each named by
line and column in Chinese and English; `services.calendar_year_import` writes only a clean file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import FieldProblem, render_both

COLUMNS = ("kind", "name", "first", "last")
HEADER_WORDS = {"kind", "类型"}
KINDS = {
    "holiday": "holiday",
    "放假": "holiday",
    "休": "holiday",
    "workday": "workday",
    "上班": "workday",
    "调休上班": "workday",
    "补班": "workday",
}
NAME_MAX = 40
# The longest period a notice has ever given is the 2020 Spring Festival (extended to 10 days);
# a month means a typing error in a date, not a holiday.
PERIOD_MAX_DAYS = 31
WEEKDAYS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))


@dataclass(frozen=True)
class NoticeDay:
    date: dt.date
    kind: str  # "holiday" | "workday"
    name: str
    line: int


@dataclass
class CheckedNotice:
    days: list[NoticeDay] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without BOM), else GB18030 as Excel/WPS save it in China."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def guess_year(text: str) -> int | None:
    """The year of the first date in the file, for a command or form that was not told the year."""
    for row in _rows(text):
        for cell in row.cells[2:4]:
            try:
                return dt.date.fromisoformat(cell.strip()).year
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class _Row:
    line: int
    cells: list[str]


def _rows(text: str) -> list[_Row]:
    rows = []
    # A full-width comma is what a Chinese keyboard types; accept it as the separator too.
    reader = csv.reader(io.StringIO(text.replace("，", ",")))
    for cells in reader:
        line = reader.line_num
        if not cells or not "".join(cells).strip():
            continue
        if cells[0].lstrip().startswith("#"):
            continue
        rows.append(_Row(line, cells))
    return rows


def _comments(text: str) -> str:
    lines = [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip().startswith("#")]
    return "\n".join(line for line in lines if line)


def _problem(code: str, message: Any, params: dict[str, Any], *, row: int | None, column: str | None) -> FieldProblem:
    zh, en = render_both(message, params)
    return FieldProblem(code=code, zh=zh, en=en, row=row, column=column)


def _date(cell: str, *, row: int, column: str, problems: list[FieldProblem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(cell.strip())
    except ValueError:
        message = (
            _("the first day is not a date written YYYY-MM-DD: “%(value)s”")
            if column == "first"
            else _("the last day is not a date written YYYY-MM-DD: “%(value)s”")
        )
        problems.append(_problem("date", message, {"value": cell.strip()}, row=row, column=column))
        return None


def check_notice(text: str, *, year: int) -> CheckedNotice:
    """Every day the notice gives for `year`, or every problem with it (nothing is half-accepted)."""
    result = CheckedNotice(note=_comments(text))
    problems = result.problems
    seen: dict[dt.date, NoticeDay] = {}
    rows = _rows(text)
    if rows and rows[0].cells[0].strip().lower() in HEADER_WORDS:
        rows = rows[1:]
    if not rows:
        problems.append(_problem("empty", _("the file lists no holidays"), {}, row=None, column=None))
        return result
    for row in rows:
        cells = [c.strip() for c in row.cells]
        while len(cells) > 3 and not cells[-1]:
            cells.pop()  # trailing empty cells are what a spreadsheet adds
        if len(cells) not in (3, 4):
            problems.append(
                _problem(
                    "columns",
                    _("expected 3 or 4 columns (kind, name, first, last), found %(count)s"),
                    {"count": len(cells)},
                    row=row.line,
                    column=None,
                )
            )
            continue
        kind = KINDS.get(cells[0].lower())
        if kind is None:
            problems.append(
                _problem(
                    "kind",
                    _("the kind must be holiday (放假) or workday (上班), not “%(value)s”"),
                    {"value": cells[0]},
                    row=row.line,
                    column="kind",
                )
            )
        name = cells[1]
        if not name:
            problems.append(_problem("name", _("the name of the festival is empty"), {}, row=row.line, column="name"))
        elif len(name) > NAME_MAX:
            problems.append(
                _problem(
                    "name",
                    _("the name is longer than %(max)s characters"),
                    {"max": NAME_MAX},
                    row=row.line,
                    column="name",
                )
            )
        first = _date(cells[2], row=row.line, column="first", problems=problems)
        last = first
        if len(cells) == 4 and cells[3]:
            last = _date(cells[3], row=row.line, column="last", problems=problems)
        if first is None or last is None:
            continue
        if last < first:
            problems.append(
                _problem(
                    "order",
                    _("the last day %(last)s is before the first day %(first)s"),
                    {"last": last, "first": first},
                    row=row.line,
                    column="last",
                )
            )
            continue
        outside = [(column, d) for column, d in (("first", first), ("last", last)) if d.year != year]
        for column, d in outside:
            problems.append(
                _problem(
                    "year",
                    _(
                        "%(day)s is not in %(year)s: each year is imported on its own "
                        "(a period across the new year is split between the two years' files)"
                    ),
                    {"day": d, "year": year},
                    row=row.line,
                    column=column,
                )
            )
        if outside:
            continue
        length = (last - first).days + 1
        if length > PERIOD_MAX_DAYS:
            problems.append(
                _problem(
                    "long",
                    _("a period of %(days)s days is longer than %(max)s days; check the dates"),
                    {"days": length, "max": PERIOD_MAX_DAYS},
                    row=row.line,
                    column="last",
                )
            )
            continue
        for offset in range(length):
            day = first + dt.timedelta(days=offset)
            column = "first" if day == first else "last"
            if kind == "workday" and day.weekday() < 5:
                problems.append(
                    _problem(
                        "weekday",
                        _(
                            "%(day)s is a %(weekday)s: an adjusted working day (调休上班) "
                            "is always a Saturday or a Sunday"
                        ),
                        {"day": day, "weekday": WEEKDAYS[day.weekday()]},
                        row=row.line,
                        column=column,
                    )
                )
                continue
            other = seen.get(day)
            if other is not None:
                problems.append(
                    _problem(
                        "overlap",
                        _("%(day)s is already listed on line %(other)s (%(name)s)"),
                        {"day": day, "other": other.line, "name": other.name},
                        row=row.line,
                        column=column,
                    )
                )
                continue
            if kind is not None and name:
                seen[day] = NoticeDay(date=day, kind=kind, name=name, line=row.line)
    if not problems and not any(d.kind == "holiday" for d in seen.values()):
        problems.append(_problem("empty", _("the file lists no holidays"), {}, row=None, column=None))
    result.days = sorted(seen.values(), key=lambda d: d.date)
    return result
