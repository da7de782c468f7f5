"""manage.py import_holidays FILE: enter a year's holidays from the State Council's notice (docs/holidays.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.errors import WanggeError
from wangge.holidays.models import CalendarDay, DayKind
from wangge.holidays.notice import decode, guess_year
from wangge.holidays.services import calendar_year_import


class Command(BaseCommand):
    help = "Replace one year of the holiday calendar with a notice file; nothing is written while any line is bad."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the notice as text/CSV (see docs/holidays.md and wangge/holidays/samples/)")
        parser.add_argument("--year", type=int, help="the year the file is for (default: the year of its first date)")
        parser.add_argument("--note", help="a note for the year (default: the file's # comment lines)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = decode(path.read_bytes())
        except OSError as e:
            raise CommandError(f"无法读取文件 cannot read {path}: {e}") from None
        year = options["year"] or guess_year(text)
        if year is None:
            raise CommandError("文件中没有日期，请用 --year 指明年份 / the file has no date; name the year with --year")
        try:
            calendar_year_import(year=year, text=text, actor=None, note=options["note"])
        except WanggeError as e:
            for problem in e.problems:
                self.stdout.write(str(problem))
            raise CommandError(str(e)) from None
        days = CalendarDay.objects.filter(year=year)
        holidays = days.filter(kind=DayKind.HOLIDAY).count()
        workdays = days.filter(kind=DayKind.WORKDAY).count()
        self.stdout.write(
            f"{year} 年已导入 imported: 放假 {holidays} 天 holidays, 调休上班 {workdays} 天 adjusted working days"
        )
