"""`manage.py seed_opengov`: the 26 standard disclosure domains and a demo catalogue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.opengov.demo import seed
from wangge.registry.models import Area, Level


class Command(BaseCommand):
    help = "Load the 26 disclosure domains and a demo catalogue into the demo city."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--city", help="code of the city (default: the first city)")

    def handle(self, *args: Any, **options: Any) -> None:
        cities = Area.objects.filter(level=Level.CITY).order_by("path")
        city = cities.filter(code=options["city"]).first() if options["city"] else cities.first()
        if city is None:
            raise CommandError("没有城市数据，请先运行 seed_demo / no city yet: run seed_demo first")
        counts = seed(city)
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"政务公开演示数据已就绪 / open-government demo ready: {summary}"))
