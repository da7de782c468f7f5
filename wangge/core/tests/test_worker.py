"""The worker loop: every registered hook in order, timed and logged, one failure stopping nothing; SIGTERM ends
the loop after the pass; the hook list itself is checked at start-up."""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from wangge.core import worker
from wangge.core.hooks import call_hooks

HERE = "wangge.core.tests.test_worker."
CALLS: list[str] = []


def first() -> dict[str, int]:
    CALLS.append("first")
    return {"moved": 2}


def broken() -> str:
    CALLS.append("broken")
    raise RuntimeError("the disk is full")


def last() -> str:
    CALLS.append("last")
    return "3 flagged"


def stop_after(event: threading.Event) -> Any:
    def hook() -> str:
        CALLS.append("stopper")
        event.set()
        return "asked to stop"

    return hook


@pytest.fixture(autouse=True)
def _calls() -> None:
    CALLS.clear()


def test_a_pass_calls_every_hook_in_order_and_a_failure_stops_nothing(settings: Any, caplog: Any) -> None:
    settings.WANGGE_WORKER_HOOKS = [HERE + "first", HERE + "broken", "wangge.nowhere.hook", HERE + "last"]
    with caplog.at_level(logging.INFO, logger="wangge.worker"):
        runs = worker.run_pass()
    assert CALLS == ["first", "broken", "last"]
    assert [(r.path.rsplit(".", 1)[-1], r.ok) for r in runs] == [
        ("first", True),
        ("broken", False),
        ("hook", False),
        ("last", True),
    ]
    assert runs[0].result == {"moved": 2} and isinstance(runs[1].error, RuntimeError)
    assert all(r.seconds >= 0 for r in runs)
    # One line per hook, saying what it did or why it failed.
    lines = [r.getMessage() for r in caplog.records if r.name == "wangge.worker"]
    assert len(lines) == 4
    assert "first: {'moved': 2} (" in lines[0] and " ms)" in lines[0]
    assert "broken FAILED after" in lines[1] and "RuntimeError: the disk is full" in lines[1]
    assert "wangge.nowhere.hook FAILED" in lines[2] and "last: 3 flagged" in lines[3]


def test_once_prints_each_hook_and_fails_the_command_after_all_ran(settings: Any) -> None:
    settings.WANGGE_WORKER_HOOKS = [HERE + "first", HERE + "last"]
    out = io.StringIO()
    call_command("run_worker", "--once", stdout=out)
    assert CALLS == ["first", "last"]
    assert "test_worker.first: {'moved': 2}" in out.getvalue() and "test_worker.last: 3 flagged" in out.getvalue()
    settings.WANGGE_WORKER_HOOKS = [HERE + "broken", HERE + "last"]
    with pytest.raises(CommandError, match=r"test_worker\.broken"):  # cron sees a failure...
        call_command("run_worker", "--once", verbosity=0)
    assert CALLS[-2:] == ["broken", "last"]  # ...after the other hooks still ran


@pytest.mark.django_db  # the loop closes stale database connections before each pass
def test_the_loop_runs_passes_until_asked_to_stop_and_finishes_the_pass(settings: Any, monkeypatch: Any) -> None:
    stop = threading.Event()
    monkeypatch.setattr(f"{__name__}.stopper", stop_after(stop), raising=False)
    settings.WANGGE_WORKER_HOOKS = [HERE + "first", HERE + "stopper", HERE + "last"]
    passes = worker.run_forever(interval=0, stop=stop)
    # The stop came in the middle of the first pass: the pass went on to its last hook, no second pass.
    assert passes == 1 and CALLS == ["first", "stopper", "last"]


@pytest.mark.django_db
def test_sigterm_lets_the_pass_finish_then_the_command_returns(settings: Any, monkeypatch: Any) -> None:
    def terminate() -> str:
        CALLS.append("terminate")
        os.kill(os.getpid(), signal.SIGTERM)
        return "sent SIGTERM"

    monkeypatch.setattr(f"{__name__}.terminate", terminate, raising=False)
    settings.WANGGE_WORKER_HOOKS = [HERE + "terminate", HERE + "last"]
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        call_command("run_worker", "--interval", "3600", verbosity=0)  # would wait an hour if SIGTERM were lost
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert CALLS == ["terminate", "last"]


def test_the_demo_hooks_propagate_a_failure() -> None:
    from django.test import override_settings

    with override_settings(WANGGE_DEMO_HOOKS=[HERE + "first", HERE + "broken", HERE + "last"]):
        runs = call_hooks("WANGGE_DEMO_HOOKS", keep_going=False)
        assert next(runs).result == {"moved": 2}
        with pytest.raises(RuntimeError, match="disk is full"):
            next(runs)
    assert CALLS == ["first", "broken"]


def test_worker_id_names_host_and_process() -> None:
    assert worker.worker_id().endswith(f":{os.getpid()}")
