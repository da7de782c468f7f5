"""The background worker: a pass calls each hook of settings.WANGGE_WORKER_HOOKS in order, then waits.

The worker knows no domain. Every piece of background work is a hook an app registers by dotted
path (the demand time-limit sweep, outbox delivery, dashboard rollups and exports, the
open-government and facilities sweeps, …): a callable with no arguments that returns a small
report (a dict, a str, or an object that prints as one line). Each hook is timed and logged on
one line; a hook that raises is logged with its traceback and the next one still runs.

Several workers may run at once (a service and a cron `--once`, or one per machine): each hook
claims its work with a conditional UPDATE (and SKIP LOCKED batches on PostgreSQL), so two passes
never do the same piece twice. `manage.py run_worker` is the command around `run_forever`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from functools import cache

from django.db import close_old_connections

from wangge.core.hooks import HookRun, call_hooks

log = logging.getLogger("wangge.worker")

SETTING = "WANGGE_WORKER_HOOKS"


@cache
def worker_id() -> str:
    """This process's name in claims and logs (host:pid), so a stuck claim can be traced to its worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def describe(run: HookRun) -> str:
    """One log line's worth of a hook's outcome."""
    ms = run.seconds * 1000
    if run.ok:
        return f"{run.path}: {run.result} ({ms:.1f} ms)"
    return f"{run.path} FAILED after {ms:.1f} ms: {type(run.error).__name__}: {run.error}"


def run_pass(*, on_hook: Callable[[HookRun], None] | None = None) -> list[HookRun]:
    """One pass: every registered hook in order, each timed and logged; a failing hook does not stop the others."""
    runs: list[HookRun] = []
    for run in call_hooks(SETTING):
        if run.ok:
            log.info("worker %s hook %s", worker_id(), describe(run))
        else:
            log.error("worker %s hook %s", worker_id(), describe(run), exc_info=run.error)
        if on_hook is not None:
            on_hook(run)
        runs.append(run)
    return runs


def run_forever(
    *,
    interval: float,
    stop: threading.Event,
    on_hook: Callable[[HookRun], None] | None = None,
) -> int:
    """Passes until `stop` is set, `interval` seconds apart; a stop request lets the current pass finish.

    Returns the number of passes made.
    """
    passes = 0
    log.info("worker %s started (interval %ss)", worker_id(), interval)
    while not stop.is_set():
        # A long-running loop must not keep a broken or stale connection between passes.
        close_old_connections()
        try:
            run_pass(on_hook=on_hook)
        except Exception:  # only the hook list itself can fail here; the next pass retries
            log.exception("worker %s pass failed", worker_id())
        passes += 1
        stop.wait(max(float(interval), 0.1))
    log.info("worker %s stopped after %s passes", worker_id(), passes)
    return passes
