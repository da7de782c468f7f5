from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """Rate-limit counters live in the cache: each test starts with none of another test's filings."""
    cache.clear()
    yield
    cache.clear()
