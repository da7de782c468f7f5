"""manage.py import_wecom_ids FILE.csv|xlsx: bind staff to their WeCom (企业微信) user ids in bulk."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.accounts.services import user_import_wecom_ids
from wangge.accounts.wecom_ids import read_rows
from wangge.core.errors import WanggeError


class Command(BaseCommand):
    help = (
        "Bind staff accounts to WeCom user ids from a .csv or .xlsx file (columns: username or phone, "
        "WeCom user id; a header row is optional); nothing is written while any row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx/.xls file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sheet, rows = read_rows(options["file"])
            changed = user_import_wecom_ids(rows=rows, sheet=sheet)
        except WanggeError as e:
            for problem in e.problems:
                self.stdout.write(str(problem))
            raise CommandError(str(e)) from None
        self.stdout.write(f"已绑定 {changed} 个账号的企业微信 / {changed} accounts bound to their WeCom user id")
