"""`manage.py seed_parking`: demo tariffs, lots and a month of stays in the demo city's towns."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.parking import demo
from wangge.registry.models import Area, Level


class Command(BaseCommand):
    help = "Load demo parking (tariffs, lots in the first towns, a month of stays). Run seed_demo first."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--city", default=None, help="code of the city (default: the first city)")
        parser.add_argument("--days", type=int, default=30, help="days of stays up to now")
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same stays")

    def handle(self, *args: Any, **options: Any) -> None:
        cities = Area.objects.filter(level=Level.CITY).order_by("path")
        if options["city"]:
            cities = cities.filter(code=options["city"])
        city = cities.first()
        if city is None:
            raise CommandError("没有城市区域，请先运行 seed_demo / no city found: run seed_demo first")
        if not 1 <= options["days"] <= 366:
            raise CommandError("天数须在 1 到 366 之间 / --days must be 1 to 366")
        started = time.perf_counter()
        try:
            counts = demo.seed(city, days=options["days"], seed_value=options["seed"])
        except ValueError as exc:
            raise CommandError(f"无法生成停车演示数据 / cannot seed parking: {exc}") from exc
        if counts.get("skipped"):
            self.stdout.write(f"{city.name}已有停车场，跳过 / {city.name} already has parking lots, nothing loaded")
            return
        summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"停车演示数据已生成 / parking demo loaded in {time.perf_counter() - started:.1f} s: {summary}"
            )
        )
