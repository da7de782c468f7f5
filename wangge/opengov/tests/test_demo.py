"""The demo catalogue: 26 domains, items at every level, one item with history, a draft; a second run adds nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from wangge.opengov import demo, selectors
from wangge.opengov.models import DisclosureDomain, DisclosureItem, ItemState

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue(tree: Any) -> None:
    counts = demo.seed(tree.city)
    assert counts == {"domains": 26, "items": len(demo.ITEMS)}
    assert DisclosureDomain.objects.count() == 26
    assert set(DisclosureItem.objects.values_list("level", flat=True)) == {"city", "town", "village"}
    assert DisclosureItem.objects.filter(state=ItemState.DRAFT).count() == 1
    with_history = [pi for _d, items in selectors.public_catalogue(tree.city) for pi in items if pi.history]
    assert with_history and with_history[0].current.number == 2
    assert demo.seed(tree.city) == {"domains": 0, "items": 0}


def test_seed_opengov_command(tree: Any) -> None:
    out = io.StringIO()
    call_command("seed_opengov", stdout=out)
    assert "domains 26" in out.getvalue()
