"""Monthly partitions of demands and their events on PostgreSQL (docs/scaling.md, "Partitions").

manage.py partition_history --status
manage.py partition_history --convert [--drop-old]     # an existing, unpartitioned database
manage.py partition_history --ahead 3 [--since 2024-01]
manage.py partition_history --detach-before 2022-01   # for archive
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from wangge.demands.partitioning import PARTITIONED, PartitionError
from wangge.demands.partitioning.convert import convert
from wangge.demands.partitioning.months import ahead_months, detach_before, ensure_months, parse_month, status


class Command(BaseCommand):
    help = "Monthly partitions of demands and their events (PostgreSQL): status, convert, create ahead, detach."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", action="store_true", help="partitions, estimated rows, size, rows in default")
        parser.add_argument("--convert", action="store_true", help="partition an existing unpartitioned database")
        parser.add_argument("--drop-old", action="store_true", help="with --convert: drop the old tables")
        parser.add_argument("--ahead", type=int, default=None, help="create this month and the next N (idempotent)")
        parser.add_argument("--since", default=None, help="with --ahead: from this month (YYYY-MM)")
        parser.add_argument("--detach-before", default=None, help="detach the months before YYYY-MM, for archive")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "分区只在 PostgreSQL 上使用；SQLite 保持普通表 / "
                "partitions are for PostgreSQL; SQLite keeps plain tables"
            )
        chosen = [o for o in ("status", "convert", "ahead", "detach_before") if opts[o] not in (None, False)]
        if len(chosen) != 1:
            raise CommandError(
                "请选择一项：--status、--convert、--ahead N、--detach-before YYYY-MM / "
                "choose one of --status, --convert, --ahead N, --detach-before YYYY-MM"
            )
        try:
            getattr(self, f"_{chosen[0]}")(opts)
        except PartitionError as exc:
            raise CommandError(str(exc)) from exc

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _status(self, opts: dict[str, Any]) -> None:
        rows = status()
        partitioned = {r.table for r in rows}
        for part in PARTITIONED:
            if part.table not in partitioned:
                self._log(f"{part.table}: not partitioned (manage.py partition_history --convert)")
        for r in rows:
            exact = f", {r.rows_exact} rows in the default" if r.rows_exact is not None else ""
            warn = " ← create the months (--ahead) to move them out" if r.rows_exact else ""
            self._log(
                f"{r.partition:34} ~{r.rows_estimate:>10} rows {r.bytes / 1e6:>10.1f} MB  {r.bounds}{exact}{warn}"
            )

    def _convert(self, opts: dict[str, Any]) -> None:
        started = time.monotonic()
        done = convert(ahead=settings.WANGGE_PARTITION_MONTHS_AHEAD, drop_old=opts["drop_old"], log=self._log)
        if not done:
            self._log("already partitioned: nothing to do")
            return
        copied = ", ".join(f"{t} {n} rows" for t, n in done.items())
        self._log(f"converted ({copied}) in {time.monotonic() - started:.1f} s")

    def _ahead(self, opts: dict[str, Any]) -> None:
        since = parse_month(opts["since"]) if opts["since"] else None
        created = ensure_months(ahead_months(opts["ahead"], since=since), log=self._log)
        self._log(f"{len(created)} partitions created" if created else "every month exists already")

    def _detach_before(self, opts: dict[str, Any]) -> None:
        detached = detach_before(parse_month(opts["detach_before"]), log=self._log)
        if not detached:
            self._log("no month before that to detach")
            return
        tables = " ".join(f"-t {name}" for name in detached)
        self._log(
            "detached; archive them, then drop them / 已分离，请归档后删除:\n"
            f"  pg_dump -Fc {tables} -f wangge-archive.dump {connection.settings_dict['NAME']}\n"
            f"  psql -c 'DROP TABLE {', '.join(detached)}' {connection.settings_dict['NAME']}"
        )
