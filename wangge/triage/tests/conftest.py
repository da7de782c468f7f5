"""Triage test fixtures: a classifier trained once per session on invented messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wangge.triage import runtime
from wangge.triage.ml import TriageClassifier
from wangge.triage.testing import make_classifier

_BYTES: dict[str, bytes] = {}


@pytest.fixture(autouse=True)
def _fresh_triage_cache() -> Iterator[None]:
    # The per-process snapshot must not carry one test's rules or model into the next.
    runtime.invalidate()
    yield
    runtime.invalidate()


@pytest.fixture
def no_default_rules(db: Any) -> None:
    """Without the default keyword rules (migration triage/0003), for tests about the model alone."""
    from wangge.triage.default_rules import NOTE
    from wangge.triage.models import KeywordRule

    KeywordRule.objects.filter(note=NOTE, auto_apply=False).delete()
    runtime.invalidate()


@pytest.fixture
def classifier() -> TriageClassifier:
    """A fresh copy of a classifier fitted once on the invented 4-label messages."""
    if "clf" not in _BYTES:
        _BYTES["clf"] = make_classifier().dumps()
    return TriageClassifier.loads(_BYTES["clf"])


@pytest.fixture
def categories(db: Any) -> dict[str, Any]:
    """County categories for the invented labels (the default catalogue is loaded by migration)."""
    from wangge.demands.models import Category

    return {c.code: c for c in Category.objects.filter(code__in=["01", "0102", "03", "05", "08"])}
