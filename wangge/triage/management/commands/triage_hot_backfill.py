"""`manage.py triage_hot_backfill [--batch N] [--minutes M]`: the hot window's demands in clusters now.

It puts the demands of the longest hot window in clusters, then stores every hot set.

The worker puts at most `hotclusters.BATCH` demands in clusters a pass and regroups no set while a
backlog remains (the pages group live meanwhile, seconds a view at millions of demands). On a database
that already holds history (an upgrade, an import, the scale benchmark) the first 90 days are hundreds
of batches: at one a pass, hours. This command runs the same passes back to back until the backlog is
gone, then regroups every set the worker keeps, and prints its progress. It is safe beside a running
worker (each batch is one transaction; a demand already in a cluster is skipped) and can be stopped and
run again.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.triage.hot import hot_targets, regroup
from wangge.triage.hotclusters import BATCH, hot_clusters_pass


class Command(BaseCommand):
    help = "热点聚类补齐 / Put the hot window's existing demands in clusters now, then store every hot set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=BATCH, help=f"demands a transaction (default {BATCH})")
        parser.add_argument(
            "--minutes", type=float, default=0, help="stop after this long (0: until done); run again to go on"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        batch, minutes = opts["batch"], opts["minutes"]
        if batch < 1:
            raise CommandError(f"--batch 须为正整数，收到 {batch} / --batch must be at least 1, got {batch}")
        if minutes < 0:
            raise CommandError(f"--minutes 不能为负，收到 {minutes} / --minutes cannot be negative, got {minutes}")
        started = time.perf_counter()
        limit = opts["minutes"] * 60
        total = 0
        while True:
            assigned = hot_clusters_pass(limit=opts["batch"])
            total += assigned
            seconds = time.perf_counter() - started
            self.stdout.write(f"已归入 {total} 条 / {total} demands in clusters ({total / max(seconds, 1e-9):.0f}/s)")
            if assigned < opts["batch"]:
                break
            if limit and seconds > limit:
                self.stdout.write("时间已到，再次运行以继续 / time is up: run again to go on")
                return
        targets = hot_targets()
        regroup(targets, took={})
        self.stdout.write(
            f"完成：{total} 条，{len(targets)} 个热点集 / done: {total} demands, "
            f"{len(targets)} hot sets stored in {time.perf_counter() - started:.1f} s"
        )
