"""Callables named by dotted path in settings: how an app plugs into another without being imported by it.

- lists of hooks called in order: `WANGGE_WORKER_HOOKS` (the worker's passes, no arguments),
  `WANGGE_DEMO_HOOKS` (`seed(city_area)`) and `WANGGE_STARTUP_HOOKS` (no arguments, once when a web
  process starts: `run_startup_hooks`, from config/wsgi.py and config/asgi.py), through `call_hooks`;
- one optional callable per setting: `WANGGE_TRIAGE_SUGGEST`, `WANGGE_TRIAGE_DUPLICATES`,
  `WANGGE_TRIAGE_FEEDBACK`, `WANGGE_PII_LOG` (the personal-data log), through `setting_callable`
  (None when unset or not importable, so a page goes on without the help);
- mappings of paths: `NOTIFY_BACKENDS` (loaded by notifications.backends) and `WANGGE_IMPORT_RUNNERS`
  (the runner of each kind of import job, loaded by registry.importing.jobs).

`core.checks` imports every one of these paths at start-up, so a typo refuses `manage.py check`
instead of failing silently in the first worker pass or the first page that asks triage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("wangge.hooks")

#: Settings holding a list of dotted paths, each called in order.
HOOK_LIST_SETTINGS = ("WANGGE_WORKER_HOOKS", "WANGGE_DEMO_HOOKS", "WANGGE_STARTUP_HOOKS")
#: Settings holding one dotted path (empty turns the help off).
CALLABLE_SETTINGS = ("WANGGE_TRIAGE_SUGGEST", "WANGGE_TRIAGE_DUPLICATES", "WANGGE_TRIAGE_FEEDBACK", "WANGGE_PII_LOG")
#: Settings holding a mapping of names to dotted paths.
MAPPING_SETTINGS = ("NOTIFY_BACKENDS", "WANGGE_IMPORT_RUNNERS")


def load(path: str) -> Callable[..., Any]:
    """The object at a dotted path (`ImportError` when the module or the name is missing)."""
    return import_string(path)  # type: ignore[no-any-return]


def hook_paths(name: str) -> list[str]:
    """The dotted paths of a list setting, in order ([] when unset)."""
    return list(getattr(settings, name, None) or ())


@dataclass(frozen=True)
class HookRun:
    """One hook called: what it returned, or the error it raised, and how long it took."""

    path: str
    result: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def call_hooks(name: str, *args: Any, keep_going: bool = True, **kwargs: Any) -> Iterator[HookRun]:
    """Load and call each hook of the list setting `name` in order, yielding one `HookRun` as each ends.

    With `keep_going` a hook that cannot be imported or raises is reported (its `HookRun.error`,
    for the caller to log) and the next one still runs: one broken worker pass must not stop the
    others. Without it the error propagates: a half-loaded demo should fail loudly.
    """
    for path in hook_paths(name):
        started = time.perf_counter()
        try:
            result = load(path)(*args, **kwargs)
        except Exception as exc:
            if not keep_going:
                raise
            yield HookRun(path, error=exc, seconds=time.perf_counter() - started)
            continue
        yield HookRun(path, result=result, seconds=time.perf_counter() - started)


def run_startup_hooks() -> list[HookRun]:
    """Each WANGGE_STARTUP_HOOKS entry, once, as a web process starts (before its first request).

    Only the WSGI/ASGI entry points call this (gunicorn workers, runserver), so `manage.py migrate`,
    other commands and tests never pay for what the hooks load. A failing hook is logged; the
    process still starts (the hook's work then happens on first use)."""
    runs = list(call_hooks("WANGGE_STARTUP_HOOKS"))
    for run in runs:
        if run.ok:
            log.info("startup hook %s (%.0f ms)", run.path, run.seconds * 1000)
        else:
            log.error("startup hook %s failed", run.path, exc_info=run.error)
    return runs


@lru_cache(maxsize=32)
def _optional(path: str) -> Callable[..., Any] | None:
    # Cached per path: pages ask on every request, and a missing module is warned about once.
    try:
        return load(path)
    except ImportError:
        log.warning("%s is not available; going on without it", path)
        return None


def setting_callable(name: str) -> Callable[..., Any] | None:
    """The callable a setting names (e.g. WANGGE_TRIAGE_DUPLICATES), or None when unset or not importable."""
    path = getattr(settings, name, "") or ""
    return _optional(path) if path else None


def configured_paths() -> Iterator[tuple[str, str]]:
    """Every (setting, dotted path) pair the project loads by path, for the start-up check."""
    for name in HOOK_LIST_SETTINGS:
        for path in hook_paths(name):
            yield name, path
    for name in CALLABLE_SETTINGS:
        path = getattr(settings, name, "") or ""
        if path:
            yield name, path
    for name in MAPPING_SETTINGS:
        for key, path in (getattr(settings, name, None) or {}).items():
            yield f"{name}[{key!r}]", path
