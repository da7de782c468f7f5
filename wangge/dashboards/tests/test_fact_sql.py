"""The facts computed in the database (services.fact_sql) equal the facts computed in Python.

`measures.demand_facts` over `facts.demand_rows` is the live figures' reading; the rollups' facts
are one INSERT … SELECT. Both must give the same row for every demand: every state, escalated or
dispatched, urged, rated (by the resident, by a call back, both, in either order), reopened by the
resident, sent back, returned, escalated automatically before or after acceptance, overdue,
suspended or extended, resolved in time or late, with or without a category, each channel, and
times that cross nights, weekends, a public holiday and an adjusted working day (调休), with
microseconds on the half second. Run on SQLite and on PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.dashboards import facts, services
from wangge.dashboards.measures import bucket, demand_facts
from wangge.dashboards.models import COUNTERS, DemandFacts
from wangge.dashboards.services import fact_sql
from wangge.dashboards.tests.test_measures import _random_demands
from wangge.demands.models import CallBack, Channel, Demand, DemandEvent
from wangge.demands.sla import LOCAL_TZ
from wangge.holidays import workdays
from wangge.holidays.models import CalendarDay, CalendarYear

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL_TZ)
LEVEL_COLUMNS = {level: f"{level}_id" for level in ("city", "town", "village", "branch", "grid")}


def python_facts(demands: Any, now: dt.datetime) -> dict[int, tuple[Any, ...]]:
    """Each demand's facts row (fact_sql.FACT_COLUMNS order) as `measures.demand_facts` gives it."""
    index = facts.AreaIndex()
    out = {}
    for row, category_id, dept_id in facts.demand_rows(demands):
        values = demand_facts(row, now)
        bits = sum(1 << i for i, name in enumerate(COUNTERS) if values[name])
        owners: dict[str, int | None] = dict.fromkeys(LEVEL_COLUMNS.values())
        for level, area_id, _path in index.ancestors(row.area_path):
            if level in LEVEL_COLUMNS:
                owners[LEVEL_COLUMNS[level]] = area_id
        out[row.demand_id] = (
            row.demand_id,
            facts.local_day(row.created_at),
            *owners.values(),
            dept_id,
            category_id,
            row.channel,
            bits,
            values["urges"],
            values["accept_seconds"],
            values["resolve_seconds"],
            bucket(values["accept_seconds"]) if values["accepted"] else None,
            bucket(values["resolve_seconds"]) if values["answered"] else None,
        )
    return out


def sql_facts() -> dict[int, tuple[Any, ...]]:
    rows = DemandFacts.objects.values_list(*fact_sql.FACT_COLUMNS)
    return {r[0]: r for r in rows}


def _calendar() -> None:
    """2026 with a public holiday on Wednesday 4 March and Sunday 8 March an adjusted working day."""
    CalendarYear.objects.get_or_create(year=2026, defaults={"updated_at": timezone.now()})
    CalendarDay.objects.update_or_create(
        date=dt.date(2026, 3, 4), defaults={"kind": "holiday", "name": "测试假日", "year": 2026}
    )
    CalendarDay.objects.update_or_create(
        date=dt.date(2026, 3, 8), defaults={"kind": "workday", "name": "测试调休", "year": 2026}
    )
    workdays.clear_cache()


def _vary(seed: int) -> None:
    """Channels, resident reopens, automatic escalations and odd times on top of the random histories."""
    rnd = random.Random(seed)
    events = []
    for i, demand in enumerate(Demand.objects.order_by("pk")):
        fields: dict[str, Any] = {"channel": Channel.values[i % len(Channel.values)]}
        if i % 7 == 0:  # microseconds on the half second and times at the edges of the opening hours
            created = dt.datetime.combine(
                dt.date(2026, 3, 1) + dt.timedelta(days=rnd.randint(0, 8)),
                rnd.choice([dt.time(8, 29, 59, 500000), dt.time(8, 30), dt.time(17, 29, 59, 999999), dt.time(23, 59)]),
                LOCAL_TZ,
            )
            fields["created_at"] = created
            if demand.accepted_at is not None:
                fields["accepted_at"] = created + dt.timedelta(seconds=rnd.choice([0.5, 1.5, 59.5, 60, 3600.5, 86400]))
        if i % 11 == 0:
            fields["urges"] = 2
        if i % 13 == 0:
            fields["state"] = "suspended"
        Demand.objects.filter(pk=demand.pk).update(**fields)
        later = demand.created_at + dt.timedelta(minutes=rnd.randint(1, 900))
        if i % 5 == 0:
            events.append(
                DemandEvent(demand=demand, at=later, action="reopen", actor_kind="resident", to_state="reopened")
            )
        if i % 9 == 0:
            events.append(DemandEvent(demand=demand, at=later, action="auto_escalate", to_state="escalated"))
        if i % 6 == 0:
            events.append(DemandEvent(demand=demand, at=later, action="reject", to_state="escalated"))
    DemandEvent.objects.bulk_create(events)
    # A call back at the same instant as a resident's rating: the rating comes first.
    rated = Demand.objects.filter(rated_at__isnull=False).order_by("pk").first()
    if rated is not None:
        CallBack.objects.create(demand=rated, at=rated.rated_at, reached=True, solved=False, satisfaction="satisfied")


@pytest.mark.django_db
def test_sql_facts_equal_python_facts_on_varied_histories(tree: Any) -> None:
    _calendar()
    _random_demands(tree, 250, seed=23)
    _vary(23)
    with time_machine.travel(NOW, tick=False):
        services.rollup_rebuild()
        expected = python_facts(Demand.objects.all(), NOW)
    got = sql_facts()
    assert len(expected) == 250
    assert got == expected
    # The variety is there: every state, each channel, both kinds of owner, times in both histograms.
    states = set(Demand.objects.values_list("state", flat=True))
    assert {"submitted", "in_progress", "escalated", "reopened", "resolved", "closed"} <= states
    assert {"rejected", "merged", "suspended", "verifying"} <= states
    assert set(Demand.objects.values_list("channel", flat=True)) == set(Channel.values)
    bits = [r[fact_sql.FACT_COLUMNS.index("bits")] for r in got.values()]
    for i, name in enumerate(COUNTERS):
        if name not in ("climb_town", "climb_city", "extended"):
            assert any(b >> i & 1 for b in bits), name
    assert any(r[-2] is not None and r[-2] > 0 for r in got.values())
    assert any(r[-1] is not None and r[-1] > 0 for r in got.values())


@pytest.mark.django_db
def test_refresh_of_listed_ids_writes_the_same_facts(tree: Any) -> None:
    """The incremental path (a list of ids, upsert) and the build (a range) are one writer with one result."""
    _random_demands(tree, 40, seed=31)
    with time_machine.travel(NOW, tick=False):
        services.rollup_rebuild()
        built = sql_facts()
        ids = sorted(built)[::3]
        DemandFacts.objects.filter(demand_id__in=ids).update(bits=0, urges=99, grid_id=None)
        assert fact_sql.upsert_facts(ids=ids, now=NOW) == len(ids)
    assert sql_facts() == built


times = st.datetimes(
    min_value=dt.datetime(2026, 2, 27), max_value=dt.datetime(2026, 3, 12), timezones=st.just(LOCAL_TZ)
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(created=times, accept_after=st.integers(0, 10 * 86400 * 1_000_000), resolve_after=st.integers(0, 10**12))
def test_working_seconds_and_buckets_match(
    tree: Any, created: dt.datetime, accept_after: int, resolve_after: int
) -> None:
    _calendar()
    Demand.objects.all().delete()
    _random_demands(tree, 1, seed=3)
    accepted = created + dt.timedelta(microseconds=accept_after)
    resolved = accepted + dt.timedelta(microseconds=resolve_after)
    Demand.objects.update(state="closed", created_at=created, accepted_at=accepted, resolved_at=resolved)
    with time_machine.travel(NOW, tick=False):
        services.rollup_rebuild()
        assert sql_facts() == python_facts(Demand.objects.all(), NOW)
