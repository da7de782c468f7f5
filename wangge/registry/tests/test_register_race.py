"""Two leaders saving one household at once on PostgreSQL, with real threads: one wins, the other a 409."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.core.errors import Conflict
from wangge.core.testing import run_threads
from wangge.registry.models import Household, HouseholdChange
from wangge.registry.services import household_update
from wangge.registry.testing import make_household

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_twenty_leaders_saving_one_household_give_one_change(tree: Any, personas: Any) -> None:
    editors = [personas[Role.GRID_LEADER], personas[Role.BRANCH], personas[Role.VILLAGE], personas[Role.TOWN]]
    h = make_household(grid=tree.grid, members=1)
    seen = h.version
    results = run_threads(
        20,
        lambda i: household_update(
            household=Household(pk=h.pk), by=editors[i % len(editors)], version=seen, members=i + 2
        ),
    )
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Household": 1, "Conflict": 19}, kinds
    assert all(r.status == 409 for r in results if isinstance(r, Conflict))
    winner = next(r for r in results if isinstance(r, Household))
    h.refresh_from_db()
    assert h.version == seen + 1 and h.members == winner.members
    change = HouseholdChange.objects.get(household_id=h.pk)
    assert change.fields == [{"field": "members", "old": 1, "new": winner.members}]
