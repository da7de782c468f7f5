"""Factories for tests in any app: plain `make_<thing>(**overrides)` functions over the real services."""

from __future__ import annotations

from typing import Any

from wangge.visits.models import Visit
from wangge.visits.services import visit_log


def make_visit(*, visitor: Any, household: Any, **overrides: Any) -> Visit:
    """A visit logged through `visit_log` (in person, now, short notes unless told otherwise)."""
    data: dict[str, Any] = {"how": "in_person", "notes": "入户走访，了解家庭近况"}
    data.update(overrides)
    return visit_log(visitor=visitor, household=household, **data).visit
