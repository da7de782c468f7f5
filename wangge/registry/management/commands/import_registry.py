"""manage.py import_registry FILE: import households from a county spreadsheet (.xlsx, .xls, .csv)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.errors import WanggeError
from wangge.registry.importing import registry_import
from wangge.registry.models import Area, Level

STAGES = {"read": "读取 read", "validate": "校验 check", "write": "写入 write", "count": "计数 count"}


class ProgressBar:
    """A plain progress bar on stderr: one line per stage, redrawn in place at most 10 times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.stage = ""
        self.last = 0.0
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage:
            if self.stage and self.tty:
                self.stream.write("\n")
            self.stage, self.started, self.last = stage, now, 0.0
        elif now - self.last < 0.1 and done != total:
            return
        if not self.tty and done not in (0, total) and now - self.last < 2:
            return  # in a log file, a line every two seconds is plenty
        self.last = now
        frac = done / total if total else 0.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        rate = done / (now - self.started) if now > self.started else 0.0
        line = f"{STAGES.get(stage, stage):<10} [{bar}] {done:>9,}/{total:<9,} {frac:6.1%} {rate:>9,.0f}/s"
        self.stream.write(("\r" if self.tty else "") + line + ("" if self.tty else "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.stage and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import households from a county spreadsheet; nothing is written while any row is bad (unless --keep-good)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=".xlsx, .xls or .csv in the county layout (see the template)")
        parser.add_argument("--city", help="code of the city the file belongs to (default: the only city)")
        parser.add_argument("--keep-good", action="store_true", help="write the good rows and report the bad ones")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        city = self._city(options["city"])
        bar = None if options["no_progress"] else ProgressBar(sys.stderr)
        started = time.perf_counter()
        try:
            result = registry_import(path=options["file"], city=city, keep_good=options["keep_good"], progress=bar)
        except WanggeError as e:
            raise CommandError(str(e)) from None
        finally:
            if bar:
                bar.close()
        seconds = time.perf_counter() - started
        if options["json"]:
            data = result.as_dict() | {"seconds": round(seconds, 3), "problems": [p.as_dict() for p in result.errors]}
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            for problem in result.errors:
                self.stdout.write(str(problem))
            would = "" if result.written or not result.errors else "(未写入 not written) "
            self.stdout.write(
                f"{would}行 rows {result.rows}  新增 created {result.created}  更新 updated {result.updated}  "
                f"未变 unchanged {result.unchanged}  错误 errors {len(result.errors)} "
                f"(rows {result.error_rows})  {seconds:.1f}s"
            )
        if result.errors and not result.written:
            raise CommandError(
                f"发现 {len(result.errors)} 处错误，未写入任何数据 / "
                f"{len(result.errors)} problems found; nothing was written (use --keep-good to write the good rows)"
            )

    def _city(self, code: str | None) -> Area:
        cities = Area.objects.filter(level=Level.CITY)
        if code:
            city = cities.filter(code=code).first()
            if city is None:
                raise CommandError(f"没有编码为 {code} 的市 / no city has the code {code}")
            return city
        found = list(cities[:2])
        if len(found) != 1:
            raise CommandError("请用 --city 指明导入到哪个市 / name the city with --city")
        return found[0]
