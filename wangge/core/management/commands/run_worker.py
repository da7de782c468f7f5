"""`manage.py run_worker [--once] [--interval S] [--batch N]`: every pass in settings.WANGGE_WORKER_HOOKS.

Run it as a service (loop) or from cron (`--once`, which exits with an error when a hook failed,
after the others ran). Several may run at once: each hook claims its work with a conditional
UPDATE. SIGTERM or SIGINT lets the current pass finish, then the loop stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wangge.core.hooks import HookRun
from wangge.core.worker import describe, run_forever, run_pass, worker_id

log = logging.getLogger("wangge.worker")


class Command(BaseCommand):
    help = (
        "Run the background passes of settings.WANGGE_WORKER_HOOKS (demand time limits, outbox, rollups, "
        "exports, sweeps), in a loop or once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between passes (default settings.WORKER_INTERVAL_SECONDS)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="demands per batch of the time-limit sweep (default settings.DEMAND_WORKER_BATCH)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"]:
            # Hooks take no arguments: the sweep reads its batch size from settings, for this process only.
            settings.DEMAND_WORKER_BATCH = options["batch"]
        show = options["verbosity"] > 0

        def echo(run: HookRun) -> None:
            if show:
                self.stdout.write(describe(run))

        if options["once"]:
            failed = [run.path for run in run_pass(on_hook=echo) if not run.ok]
            if failed:
                raise CommandError(f"worker hooks failed / 后台任务失败: {', '.join(failed)}")
            return

        interval = options["interval"] if options["interval"] is not None else settings.WORKER_INTERVAL_SECONDS
        stop = threading.Event()

        def _stop(signum: int, _frame: Any) -> None:
            log.info("worker %s: signal %s, stopping after this pass", worker_id(), signum)
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        run_forever(interval=interval, stop=stop)
