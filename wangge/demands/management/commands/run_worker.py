"""`manage.py run_worker [--once] [--interval S]`: the time-limit sweep and the notification outbox.

Run it as a service (loop) or from cron (`--once`). Several may run at once: claims are
conditional UPDATEs (and SKIP LOCKED batches on PostgreSQL). SIGTERM or SIGINT lets the current
pass finish, then the loop stops.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from wangge.demands.sweep import sweep_once

log = logging.getLogger("wangge.worker")


def run_hooks() -> list[tuple[str, Any]]:
    """Call each pass of settings.WANGGE_WORKER_HOOKS (dotted paths, no arguments), in order.

    Other apps (dashboards' rollups and exports, …) add their passes there, so demands never
    imports them. One failing hook is logged and the others still run.
    """
    from django.utils.module_loading import import_string

    results: list[tuple[str, Any]] = []
    for name in getattr(settings, "WANGGE_WORKER_HOOKS", []):
        try:
            results.append((name, import_string(name)()))
        except Exception:
            log.exception("worker hook %s failed", name)
    return results


class Command(BaseCommand):
    help = "Sweep demand time limits (auto-escalate, warn, close) and deliver the notification outbox."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between passes (default settings.WORKER_INTERVAL_SECONDS)",
        )
        parser.add_argument("--batch", type=int, default=None, help="demands per batch (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] if options["interval"] is not None else settings.WORKER_INTERVAL_SECONDS
        worker_id = f"{socket.gethostname()}:{os.getpid()}"
        stop = threading.Event()

        def _stop(signum: int, _frame: Any) -> None:
            log.info("worker %s: signal %s, stopping after this pass", worker_id, signum)
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        log.info("worker %s started (interval %ss, once=%s)", worker_id, interval, options["once"])
        once = options["once"]
        while not stop.is_set():
            if not once:
                # A long-running loop must not keep a broken or stale connection between passes.
                close_old_connections()
            try:
                report = sweep_once(batch=options["batch"], worker_id=worker_id)
                log.info("worker %s pass: %s", worker_id, report)
                if options["verbosity"] > 0 and once:
                    self.stdout.write(str(report))
                for name, result in run_hooks():
                    log.info("worker %s hook %s: %s", worker_id, name, result)
                    if options["verbosity"] > 0 and once:
                        self.stdout.write(f"{name}: {result}")
            except Exception:  # one bad pass must not kill the loop; the next pass retries
                log.exception("worker %s pass failed", worker_id)
                if once:
                    raise
            if once:
                break
            stop.wait(max(float(interval), 0.1))
        log.info("worker %s stopped", worker_id)
