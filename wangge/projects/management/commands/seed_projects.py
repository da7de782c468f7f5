"""`manage.py seed_projects`: the year's ten key livelihood projects, the article's targets, some checked progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.projects.demo import seed
from wangge.registry.models import Area, Level


class Command(BaseCommand):
    help = "Load the demo livelihood projects (十大重点民生实事) into the demo city."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--city", help="code of the city (default: the first city)")
        parser.add_argument("--year", type=int, help="the projects' year (default: this year)")

    def handle(self, *args: Any, **options: Any) -> None:
        cities = Area.objects.filter(level=Level.CITY).order_by("path")
        city = cities.filter(code=options["city"]).first() if options["city"] else cities.first()
        if city is None:
            raise CommandError("没有城市数据，请先运行 seed_demo / no city yet: run seed_demo first")
        counts = seed(city, year=options["year"])
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"民生实事演示数据已就绪 / livelihood projects ready: {summary}"))
