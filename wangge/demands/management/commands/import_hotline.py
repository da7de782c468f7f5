"""`manage.py import_hotline FILE`: file a 12345 hotline export as demands (all rows or none)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.errors import ValidationFailed
from wangge.demands.hotline import hotline_import


class Command(BaseCommand):
    help = "Import a 12345 hotline export (.xlsx/.xls/.csv) as demands; the ticket number makes re-imports safe."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the export file")
        parser.add_argument("--user", help="username recorded as the clerk who imported it")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options.get("user"):
            from wangge.accounts.models import User

            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"找不到用户 {options['user']} / no user {options['user']}")
        try:
            report = hotline_import(path=options["file"], actor=actor)
        except ValidationFailed as exc:
            lines = [str(exc)] + [f"  {p}" for p in exc.problems]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(str(report))
