from __future__ import annotations

from collections.abc import Iterator

import pytest

from wangge.holidays import workdays


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Iterator[None]:
    # Each test's rows are rolled back at its end: a year cached from them must not leak into the next test.
    workdays.clear_cache()
    yield
    workdays.clear_cache()
