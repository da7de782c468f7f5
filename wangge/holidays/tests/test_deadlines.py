"""Demands filed at the turn of 2026→2027: limits follow a hand-entered 2027, or fall back to Monday–Friday out loud."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from wangge.demands import sla
from wangge.demands.testing import make_demand
from wangge.holidays.services import calendar_year_import

SH = ZoneInfo("Asia/Shanghai")

# 2027 as a county would type it from the notice; the dates are this test's own (the real notice is not
# out when this is written): 元旦 Fri 1 – Sun 3 January, 春节 Sat 6 – Sun 14 February, with Sunday
# 31 January and Saturday 20 February worked in exchange.
CALENDAR_2027 = """\
# 2027 (test)
kind,name,first,last
holiday,元旦,2027-01-01,2027-01-03
holiday,春节,2027-02-06,2027-02-14
workday,春节,2027-01-31
workday,春节,2027-02-20
"""


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def _default_limits(settings: Any) -> None:
    settings.WANGGE_TRIAGE_SUGGEST = ""  # no category suggested: the default limit, 5 working days


def filed_at(moment: dt.datetime, tree: Any) -> Any:
    with time_machine.travel(moment, tick=False):
        return make_demand(grid=tree.grid)


@pytest.mark.django_db
def test_limits_across_the_new_year_follow_the_hand_entered_2027(tree: Any) -> None:
    calendar_year_import(year=2027, text=CALENDAR_2027)
    # Wed 30 Dec: 31 Dec (1); 1–3 Jan off; 4, 5, 6, 7 Jan (2–5).
    assert filed_at(at(2026, 12, 30, 10, 0), tree).resolve_due_at == at(2027, 1, 7, 17, 30)
    # Fri 29 Jan: the adjusted Sunday 31 Jan counts (1); 1, 2, 3, 4 Feb (2–5).
    assert filed_at(at(2027, 1, 29, 10, 0), tree).resolve_due_at == at(2027, 2, 4, 17, 30)
    # Fri 5 Feb: the Spring Festival 6–14 Feb is skipped; 15–19 Feb.
    assert filed_at(at(2027, 2, 5, 10, 0), tree).resolve_due_at == at(2027, 2, 19, 17, 30)
    # Wed 17 Feb: 18, 19, the adjusted Saturday 20 Feb, 22, 23.
    assert filed_at(at(2027, 2, 17, 10, 0), tree).resolve_due_at == at(2027, 2, 23, 17, 30)
    limits, fell_back = sla.deadlines_and_fallback(category=None, urgency="normal", start=at(2026, 12, 30, 10, 0))
    assert fell_back == [] and limits["resolve_due_at"] == at(2027, 1, 7, 17, 30)


@pytest.mark.django_db
def test_without_2027_the_limits_count_monday_to_friday_and_say_so(tree: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="wangge.holidays.workdays"):
        demand = filed_at(at(2026, 12, 30, 10, 0), tree)
    # 31 Dec, then 1 Jan counted as an ordinary Friday: 31, 1, 4, 5, 6.
    assert demand.resolve_due_at == at(2027, 1, 6, 17, 30)
    assert any("2027" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    limits, fell_back = sla.deadlines_and_fallback(category=None, urgency="normal", start=at(2026, 12, 30, 10, 0))
    assert fell_back == [2027]
    assert limits["resolve_due_at"] == demand.resolve_due_at
    assert set(limits) == {"accept_due_at", "resolve_due_at", "yellow_at"}  # still spreadable into Demand(...)
    # The demand's own timeline says so (staff only), once, from the system.
    gaps = list(demand.events.filter(action="calendar_gap"))
    assert len(gaps) == 1 and not gaps[0].is_public and gaps[0].actor_kind == "system"
    assert "2027" in gaps[0].note and "周一至周五" in gaps[0].note


@pytest.mark.django_db
def test_a_new_holder_without_2027_is_told_on_the_timeline_too(tree: Any, personas: Any) -> None:
    from wangge.accounts.models import Role
    from wangge.demands import services

    demand = filed_at(at(2026, 11, 2, 10, 0), tree)
    assert not demand.events.filter(action="calendar_gap").exists()  # limits inside 2026: nothing to say
    with time_machine.travel(at(2026, 12, 29, 10, 0), tick=False):
        demand = services.demand_escalate(demand=demand, actor=personas[Role.GRID_LEADER], reason="需要村里协调")
    assert demand.events.filter(action="calendar_gap").count() == 1


@pytest.mark.django_db
def test_with_2027_entered_the_timeline_has_no_gap_note(tree: Any) -> None:
    calendar_year_import(year=2027, text=CALENDAR_2027)
    demand = filed_at(at(2026, 12, 30, 10, 0), tree)
    assert not demand.events.filter(action="calendar_gap").exists()


@pytest.mark.django_db
def test_a_limit_inside_a_covered_year_reports_no_fallback() -> None:
    _limits, fell_back = sla.deadlines_and_fallback(category=None, urgency="normal", start=at(2026, 6, 1, 10, 0))
    assert fell_back == []
    # Urgent limits are calendar hours: no working-day calendar is consulted, so nothing fell back.
    _limits, fell_back = sla.deadlines_and_fallback(category=None, urgency="urgent", start=at(2026, 12, 31, 10, 0))
    assert fell_back == []
