"""The dashboard page: the week's hot issues sit beside the measures."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_dashboard_shows_the_weeks_hot_issues(tree: Any, personas: Any) -> None:
    """Five neighbours reporting the same broken street light make a hot issue on the city's dashboard."""
    from django.test import Client
    from django.urls import reverse

    from wangge.demands.services import demand_submit

    for i in range(5):
        demand_submit(
            channel="resident_web",
            title="小区门口路灯不亮",
            description=f"金沙路小区门口的路灯坏了好几天，晚上很黑，第{i}位居民反映",
            reporter_phone=f"1390000{i:04d}",
            grid=tree.grid,
        )
    client = Client()
    client.force_login(personas["city_admin"])
    body = client.get(reverse("dashboards:dashboard")).content.decode()
    assert 'data-testid="hot-issue"' in body
    assert 'data-size="5"' in body
