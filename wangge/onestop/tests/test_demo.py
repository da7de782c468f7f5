"""The demo hook and command: the catalogue with 44 village items, the bundles, a few applications; twice is once."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from wangge.onestop.models import Application, AppState, ServiceBundle, ServiceItem

pytestmark = pytest.mark.django_db


def test_seed_onestop_loads_the_catalogue_and_applications_once(tree: Any) -> None:
    out = StringIO()
    call_command("seed_onestop", stdout=out)
    assert "one-stop demo data ready" in out.getvalue()
    assert ServiceItem.objects.filter(village_ok=True).count() == 44
    assert set(ServiceBundle.objects.values_list("code", flat=True)) == {"KBQY", "XSR", "TX", "ESF", "CJR", "CYD"}
    states = sorted(Application.objects.values_list("state", flat=True))
    assert states == sorted([AppState.ISSUED, AppState.IN_PROGRESS, AppState.DRAFT])
    counts = (ServiceItem.objects.count(), ServiceBundle.objects.count(), Application.objects.count())
    call_command("seed_onestop", stdout=StringIO())
    assert (ServiceItem.objects.count(), ServiceBundle.objects.count(), Application.objects.count()) == counts
