"""Post the official account's menu (WANGGE_WECHAT_MENU or the default) to WeChat's /cgi-bin/menu/create."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.core.errors import ValidationFailed
from wangge.notifications.backends.wechat_mp import api_post
from wangge.wechat.menu import menu


class Command(BaseCommand):
    help = "Post the WeChat official account's custom menu (WANGGE_WECHAT_MENU, else report and look up)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print the menu JSON, post nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = menu()
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        result, problem = api_post("/cgi-bin/menu/create", data)
        if result is None:
            raise CommandError(problem)
        if result.get("errcode") != 0:
            raise CommandError(f"WeChat errcode {result.get('errcode')}: {result.get('errmsg', '')}")
        self.stdout.write(self.style.SUCCESS(f"menu set: {len(data['button'])} buttons"))
