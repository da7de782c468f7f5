"""The demands demo hook: an 8-week history through the services that fills the city dashboard; idempotent."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from wangge.core import clock
from wangge.dashboards import selectors
from wangge.dashboards.services import rollup_refresh
from wangge.demands.demo import KEY_PREFIX, seed
from wangge.demands.models import Demand, DemandEvent, State
from wangge.registry.demo import CITY_CODE
from wangge.registry.models import Area

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Shanghai


def test_travel_moves_now_and_restores_it() -> None:
    past = dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)
    later = past + dt.timedelta(hours=5)
    before = clock.now()
    seen: list[dt.datetime] = []
    with clock.travel(past):
        assert clock.now() == past and clock.today_local() == dt.date(2025, 1, 2)
        other = threading.Thread(target=lambda: seen.append(clock.now()))
        other.start()
        other.join()
        clock.set_travel(later)
        assert clock.now() == later
    assert clock.now() >= before and clock.now().year >= 2026
    assert seen[0] > past  # thread-local: another thread keeps the real clock
    with pytest.raises(RuntimeError):
        clock.set_travel(later)
    with pytest.raises(ValueError), clock.travel(dt.datetime(2025, 1, 1)):
        pass


def test_demo_history_fills_the_city_dashboard(settings: Any) -> None:
    settings.WANGGE_DEMO_HOOKS = ["wangge.demands.demo.seed"]
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", scale="small", stdout=io.StringIO())
        demo = Demand.objects.filter(idempotency_key__startswith=KEY_PREFIX)
        total = demo.count()
        assert 250 <= total <= 350
        first, last = demo.order_by("created_at")[0].created_at, demo.order_by("-created_at")[0].created_at
        assert last - first >= dt.timedelta(weeks=6) and last <= NOW
        assert demo.filter(state=State.CLOSED, satisfaction="satisfied").count() > total // 3
        assert demo.filter(satisfaction="basic").exists()
        assert demo.filter(resolved_at__isnull=False).count() > total // 2
        assert demo.filter(escalations__gt=0).exists() and demo.filter(dispatched_department__isnull=False).exists()
        assert demo.filter(state__in=(State.SUBMITTED, State.IN_PROGRESS, State.ESCALATED)).exists()
        assert demo.filter(state=State.REJECTED).exists()
        assert DemandEvent.objects.filter(demand__in=demo, action="reopen").exists()
        assert demo.filter(resolve_due_at__lt=NOW, resolved_at__isnull=True).exclude(state=State.REJECTED).exists()
        assert len(set(demo.values_list("channel", flat=True))) >= 4
        assert len(set(demo.values_list("category", flat=True))) >= 15
        # Every move was made by the holder at the time: event moments lie between submission and now.
        assert not DemandEvent.objects.filter(demand__in=demo, at__gt=NOW).exists()

        # seed_demo refuses a second city, so the hook itself is run again: it adds nothing.
        city = Area.objects.get(code=CITY_CODE)
        assert seed(city) == {"demands": 0}
        assert Demand.objects.filter(idempotency_key__startswith=KEY_PREFIX).count() == total

        rollup_refresh(since=NOW - dt.timedelta(weeks=9))
        subject = selectors.Subject(area=city)
        today = timezone.localdate(NOW)
        period = selectors.Period(today - dt.timedelta(days=59), today)
        tally = selectors.figures(subject=subject, period=period)
        assert tally.counts["received"] == total
        for name in ("accepted", "resolved", "rated", "satisfied", "overdue"):
            assert tally.counts[name] > 0, name
        assert sum(t.counts["resolved"] for _, t in selectors.daily(subject=subject, period=period)) > 0
