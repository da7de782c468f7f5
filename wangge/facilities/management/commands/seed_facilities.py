"""`manage.py seed_facilities`: 72 public toilets with three directors each and a few weeks of inspections."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.facilities.demo import DEMO_PASSWORD, seed
from wangge.registry.models import Area, Level


class Command(BaseCommand):
    help = "Load the facility director system's demo (所长制): 72 public toilets, directors, inspections."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--city", help="code of the city (default: the first city)")
        parser.add_argument("--weeks", type=int, default=3, help="weeks of inspections up to yesterday (default 3)")

    def handle(self, *args: Any, **options: Any) -> None:
        cities = Area.objects.filter(level=Level.CITY).order_by("path")
        city = cities.filter(code=options["city"]).first() if options["city"] else cities.first()
        if city is None:
            raise CommandError("没有城市数据，请先运行 seed_demo / no city yet: run seed_demo first")
        counts = seed(city, weeks=options["weeks"])
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"所长制演示数据已就绪 / facility directors demo ready: {summary}"))
        self.stdout.write(
            f"登录 / logins: demo_gc_leader1–3（局领导）, demo_hw_<乡镇代码>（环卫所）, 密码 / password {DEMO_PASSWORD}"
        )
