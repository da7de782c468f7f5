"""`manage.py export_hotline_results --since D --until D --user U -o FILE`: the 12345 return sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.errors import ValidationFailed
from wangge.demands.hotline_results import hotline_results_workbook


class Command(BaseCommand):
    help = "Write how each 12345 hotline order stands, in the hotline's own columns, as xlsx."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--since", required=True, type=dt.date.fromisoformat, help="first day (YYYY-MM-DD)")
        parser.add_argument("--until", required=True, type=dt.date.fromisoformat, help="last day (YYYY-MM-DD)")
        parser.add_argument("--user", required=True, help="the orders this user may see are written")
        parser.add_argument("-o", "--output", required=True, help="the xlsx file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        from wangge.accounts.models import User

        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"找不到用户 {options['user']} / no user {options['user']}")
        try:
            data, count = hotline_results_workbook(user=user, since=options["since"], until=options["until"])
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from None
        Path(options["output"]).write_bytes(data)
        self.stdout.write(f"{count} 条工单 / {count} orders → {options['output']}")
