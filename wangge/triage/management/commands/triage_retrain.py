"""`manage.py triage_retrain`: retrain each target from the county's history now, if enough new labels arrived.

The worker's hook (`training.retrain_pass`) starts this command in a process of its own when its hourly
check is due, so that the minutes of fitting never hold the worker's pass. Run by hand it does the same
check and prints what it did as one JSON line (kept, discarded, or waiting for labels); nothing is
activated: a person does that in the back office.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from wangge.triage.training import retrain_all


class Command(BaseCommand):
    help = "重新训练 / Retrain the category and department models when enough new labels arrived."

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(json.dumps(retrain_all(), ensure_ascii=False, default=str))
