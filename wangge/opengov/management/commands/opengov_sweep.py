"""`manage.py opengov_sweep`: flag published disclosure items past their update date (runs from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wangge.opengov.services import disclosure_sweep


class Command(BaseCommand):
    help = "Flag disclosure items past their update date and notify their level (idempotent: safe to run often)."

    def handle(self, *args: Any, **options: Any) -> None:
        flagged = disclosure_sweep()
        self.stdout.write(f"政务公开逾期标记 / disclosure items flagged overdue: {flagged}")
