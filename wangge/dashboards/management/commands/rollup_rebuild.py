"""Rebuild every day's dashboard rollups now (after a change of the measures' definitions)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wangge.dashboards.services import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard rollups of every day that has demands (the worker does it after a reset)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(rollup_rebuild()))
