"""Test helpers below every app: real threads racing on the database (the PostgreSQL-only tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_threads(n: int, target: Callable[[int], Any]) -> list[Any]:
    """Start `n` threads together (a barrier) and call `target(i)` in each; each thread's result, or the
    exception it raised, in order. Each thread closes its own database connection."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
