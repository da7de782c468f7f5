"""`manage.py seed_demo --scale small|liuyang`: a generated demo city and a login for every role."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.accounts.management.commands.demo_logins import demo_login_rows, format_logins
from wangge.core.hooks import call_hooks
from wangge.registry.demo import CITY_CODE, PLANS, DemoPlan, build_demo
from wangge.registry.models import Area


class Command(BaseCommand):
    help = "Load generated demo data (small: a few areas; liuyang: 32 towns, 32,000 grids, 419,200 households)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", choices=sorted(PLANS), default="small")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any area exists")
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same city")
        parser.add_argument(
            "--registry-only",
            action="store_true",
            help="only the area tree, households and logins (skip the demo data of the other apps)",
        )
        # Hidden overrides: a scaled-down reference city through the very same code path (tests, benches).
        for name in ("towns", "villages", "grids", "households"):
            parser.add_argument(f"--{name}", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Area.objects.exists():
            self.stdout.write("已有区域数据，跳过演示数据 / areas exist, demo data not loaded")
            return
        if Area.objects.filter(code=CITY_CODE).exists():
            raise CommandError(
                f"演示城市（编码 {CITY_CODE}）已存在；请使用空数据库 / "
                f"the demo city (code {CITY_CODE}) already exists; use an empty database"
            )
        plan = PLANS[options["scale"]]
        overrides = {k: options[k] for k in ("towns", "villages", "grids", "households") if options[k] is not None}
        if overrides:
            plan = DemoPlan(
                towns=overrides.get("towns", plan.towns),
                villages=overrides.get("villages", plan.villages),
                grids=overrides.get("grids", plan.grids),
                households=overrides.get("households", plan.households),
            )
        verbose = options["verbosity"] >= 1
        started = time.perf_counter()
        try:
            result = build_demo(plan, seed=options["seed"], progress=self.stdout.write if verbose else None)
        except ValueError as exc:
            raise CommandError(f"演示数据参数无效 / invalid demo plan: {exc}") from exc
        if not options["registry_only"]:
            city = Area.objects.get(code=CITY_CODE)
            for run in call_hooks("WANGGE_DEMO_HOOKS", city, keep_going=False):
                if verbose:
                    self.stdout.write(f"  {run.path}: {run.result} ({run.seconds:.1f} s)")
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{k} {v:,}" for k, v in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"演示数据已生成 / demo data loaded in {elapsed:.1f} s: {summary}"))
        if verbose:
            self.stdout.write(format_logins(demo_login_rows()))
