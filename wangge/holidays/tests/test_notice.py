"""The notice format: the 2026 sample agrees with the package, every kind of bad line is named, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar.constants as package
import pytest
from django.core.management import CommandError, call_command

from wangge.core.errors import ValidationFailed
from wangge.holidays.models import CalendarDay, CalendarYear, Source
from wangge.holidays.notice import check_notice, decode, guess_year
from wangge.holidays.services import calendar_year_import

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "2026.csv"


def test_the_2026_sample_lists_exactly_the_days_of_the_package() -> None:
    checked = check_notice(SAMPLE.read_text(encoding="utf-8"), year=2026)
    assert checked.ok, [str(p) for p in checked.problems]
    holidays = {d.date for d in checked.days if d.kind == "holiday"}
    workdays = {d.date for d in checked.days if d.kind == "workday"}
    assert holidays == {d for d in package.holidays if d.year == 2026}
    assert workdays == {d for d in package.workdays if d.year == 2026}
    assert len(holidays) == 33 and len(workdays) == 6


@pytest.mark.django_db
def test_importing_the_sample_replaces_2026_with_the_same_days() -> None:
    before = set(CalendarDay.objects.filter(year=2026).values_list("date", "kind", "name"))
    call_command("import_holidays", str(SAMPLE))
    after = set(CalendarDay.objects.filter(year=2026).values_list("date", "kind", "name"))
    assert after == before  # the seeded names are the notice's names too
    row = CalendarYear.objects.get(year=2026)
    assert row.source == Source.NOTICE
    assert "2026年部分节假日安排" in row.note


def good(*lines: str) -> str:
    return "\n".join(["kind,name,first,last", *lines]) + "\n"


def problems(text: str, year: int = 2027) -> list[tuple[int | None, str | None, str]]:
    checked = check_notice(text, year=year)
    return [(p.row, p.column, p.code) for p in checked.problems]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("holiday,元旦", (3, None, "columns")),
        ("holiday,元旦,2027-01-01,2027-01-03,extra", (3, None, "columns")),
        ("vacation,劳动节,2027-05-01,2027-05-03", (3, "kind", "kind")),
        ("holiday,,2027-05-01,2027-05-03", (3, "name", "name")),
        ("holiday," + "节" * 41 + ",2027-05-01,2027-05-03", (3, "name", "name")),
        ("holiday,元旦,2027/1/1,2027-01-03", (3, "first", "date")),
        ("holiday,元旦,2027-01-01,3 Jan", (3, "last", "date")),
        ("holiday,元旦,2027-01-03,2027-01-01", (3, "last", "order")),
        ("holiday,元旦,2026-12-31,2027-01-01", (3, "first", "year")),
        ("holiday,春节,2027-02-01,2027-03-15", (3, "last", "long")),
        ("workday,春节,2027-02-03", (3, "first", "weekday")),  # a Wednesday
        ("holiday,春节,2027-01-02,2027-01-02", (3, "first", "overlap")),  # already 元旦 on line 2
    ],
)
def test_each_kind_of_bad_line_is_named_by_line_and_column(line: str, expected: tuple[int, str, str]) -> None:
    text = good("holiday,元旦,2027-01-01,2027-01-03", line)
    assert problems(text) == [expected]


def test_messages_are_in_chinese_and_english_with_the_line_and_column() -> None:
    text = good("holiday,元旦,2027-01-01,2027-01-03", "workday,春节,2027-02-03")
    (problem,) = check_notice(text, year=2027).problems
    assert "第 3 行「first」列" in str(problem) and "row 3, column 'first'" in str(problem)
    assert "星期三" in problem.zh and "调休上班" in problem.zh
    assert "Wednesday" in problem.en and "Saturday or a Sunday" in problem.en


def test_every_bad_line_is_reported_not_only_the_first() -> None:
    text = good("holiday,元旦,2027-01-01,2027-01-03", "vacation,x,2027-05-01", "holiday,劳动节,2027-13-01")
    assert problems(text) == [(3, "kind", "kind"), (4, "first", "date")]


def test_empty_files_and_files_without_a_holiday_are_refused() -> None:
    assert problems("# only a comment\n\n") == [(None, None, "empty")]
    assert problems(good("workday,春节,2027-02-20")) == [(None, None, "empty")]


def test_comments_blank_lines_full_width_commas_and_single_days_are_accepted() -> None:
    text = (
        "# 通知\n\n类型,name,first,last\n"
        "holiday，元旦，2027-01-01，2027-01-03\n放假,清明节,2027-04-05\n调休上班,春节,2027-02-20,\n"
    )
    checked = check_notice(text, year=2027)
    assert checked.ok, [str(p) for p in checked.problems]
    assert [(d.date, d.kind) for d in checked.days] == [
        (dt.date(2027, 1, 1), "holiday"),
        (dt.date(2027, 1, 2), "holiday"),
        (dt.date(2027, 1, 3), "holiday"),
        (dt.date(2027, 2, 20), "workday"),
        (dt.date(2027, 4, 5), "holiday"),
    ]
    assert checked.note == "通知"
    assert guess_year(text) == 2027


def test_a_gb18030_file_from_excel_is_read() -> None:
    assert decode("holiday,春节,2027-02-06".encode("gb18030")) == "holiday,春节,2027-02-06"
    assert decode("\ufeffholiday,春节,2027-02-06".encode()) == "holiday,春节,2027-02-06"


@pytest.mark.django_db
def test_a_bad_file_writes_nothing_and_keeps_the_year_as_it_was() -> None:
    before = list(CalendarDay.objects.filter(year=2026).values_list("date", "kind", "name"))
    stamp = CalendarYear.objects.get(year=2026).updated_at
    text = good("holiday,元旦,2026-01-01,2026-01-03", "holiday,春节,2026-02-15,2026-02-31")
    with pytest.raises(ValidationFailed) as caught:
        calendar_year_import(year=2026, text=text)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "last")]
    assert list(CalendarDay.objects.filter(year=2026).values_list("date", "kind", "name")) == before
    assert CalendarYear.objects.get(year=2026).updated_at == stamp
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.django_db
def test_a_good_file_replaces_the_whole_year() -> None:
    calendar_year_import(year=2026, text=good("holiday,元旦,2026-01-01,2026-01-01"), note="corrected")
    assert list(CalendarDay.objects.filter(year=2026).values_list("date", "kind")) == [(dt.date(2026, 1, 1), "holiday")]
    assert CalendarYear.objects.get(year=2026).note == "corrected"
    in_2025 = [d for d in [*package.holidays, *package.workdays] if d.year == 2025]
    assert CalendarDay.objects.filter(year=2025).count() == len(in_2025)  # other years untouched


@pytest.mark.django_db
def test_the_command_names_every_problem_and_refuses(tmp_path: Path) -> None:
    bad = tmp_path / "2027.csv"
    bad.write_text(good("holiday,元旦,2027-01-01,2027-01-03", "workday,元旦,2027-01-04"), encoding="utf-8")
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_holidays", str(bad), stdout=out)
    assert "第 3 行「first」列" in out.getvalue() and "Monday" in out.getvalue()
    assert not CalendarYear.objects.filter(year=2027).exists()
