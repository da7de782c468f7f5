"""`manage.py facilities_sweep`: flag directors whose inspection rule was not met in the last complete period.

Run it from cron or let `run_worker` call `inspection_flag_missed` each pass; either way a period is
flagged once, so running it often costs nothing but a few grouped queries.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wangge.core import clock
from wangge.facilities.services import inspection_flag_missed


class Command(BaseCommand):
    help = "Flag missed facility inspections (所长制) for the last complete day, week and month."

    def handle(self, *args: Any, **options: Any) -> None:
        report = inspection_flag_missed(now=clock.now())
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"未达标巡查 / missed inspections flagged: {report}"))
