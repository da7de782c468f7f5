"""Missed inspections: judged per complete calendar period in Shanghai time, flagged once, both levels told."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from wangge.core import clock
from wangge.facilities.models import DirectorLevel, MissedInspection, RulePeriod
from wangge.facilities.services import inspection_flag_missed
from wangge.facilities.testing import make_director, make_director_user, make_facility, make_inspection
from wangge.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MON = dt.date(2026, 3, 2)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@pytest.fixture
def setup(tree: Any) -> dict[str, Any]:
    toilet = make_facility(area=tree.grid, name="金沙路公厕")
    return {
        "toilet": toilet,
        "leader": make_director(
            facility=toilet,
            level=DirectorLevel.BUREAU_LEADER,
            name="王局长",
            phone="13900000011",
            since=MON - dt.timedelta(days=1),
        ),
        "staff": make_director_user(facility=toilet, level=DirectorLevel.SANITATION_STAFF, since=MON),
        "cleaner": make_director(
            facility=toilet, level=DirectorLevel.CLEANER, name="李保洁", phone="13900000033", since=MON
        ),
    }


def _record(director: Any, when: dt.datetime, actor: Any) -> None:
    with time_machine.travel(when, tick=False):
        make_inspection(director=director, actor=actor)


def test_a_daily_rule_is_judged_on_the_shanghai_day_and_flagged_once(setup: Any, personas: Any) -> None:
    town = personas["town"]
    # 23:59 Shanghai is still Monday (15:59 UTC): it counts for Monday.
    _record(setup["cleaner"], at(MON, 23, 59), town)
    with time_machine.travel(at(MON + dt.timedelta(days=1), 1), tick=False):
        report = inspection_flag_missed(now=clock.now())
    assert report.flagged["day"] == 0
    assert not MissedInspection.objects.filter(director=setup["cleaner"]).exists()
    # Tuesday passes without a check: on Wednesday it is flagged, once.
    with time_machine.travel(at(MON + dt.timedelta(days=2), 0, 30), tick=False):
        first = inspection_flag_missed(now=clock.now())
        outbox = OutboxMessage.objects.count()
        second = inspection_flag_missed(now=clock.now())
    assert first.flagged["day"] == 1 and second.flagged["day"] == 0
    assert OutboxMessage.objects.count() == outbox
    missed = MissedInspection.objects.get(director=setup["cleaner"])
    assert (missed.period_start, missed.period_end, missed.done, missed.required) == (
        MON + dt.timedelta(days=1),
        MON + dt.timedelta(days=2),
        0,
        1,
    )
    # The cleaner by SMS (no account) and the level above them (the sanitation staff's account).
    sent = {(m.channel, m.recipient) for m in OutboxMessage.objects.filter(kind="facility.missed_inspection")}
    assert ("sms", "13900000033") in sent
    told = OutboxMessage.objects.filter(kind="facility.missed_inspection").first()
    assert told is not None and told.subject.startswith("巡查未达标：")
    assert told.body.endswith("巡查公厕「" + missed.facility.name + "」0 次，要求 每日1次（1 次）。")
    assert ("wechat", f"user:{setup['staff'].user_id}") in sent


def test_a_weekly_rule_counts_monday_to_sunday(setup: Any) -> None:
    staff = setup["staff"]
    _record(staff, at(MON, 10), staff.user)
    _record(staff, at(MON + dt.timedelta(days=6), 23, 30), staff.user)  # Sunday night: still that week
    _record(staff, at(MON + dt.timedelta(days=7), 0, 10), staff.user)  # Monday after: the next week
    with time_machine.travel(at(MON + dt.timedelta(days=7), 1), tick=False):
        inspection_flag_missed(now=clock.now())
    assert not MissedInspection.objects.filter(director=staff).exists()
    # The next week has only the Monday 00:10 check: one of two.
    with time_machine.travel(at(MON + dt.timedelta(days=14), 1), tick=False):
        report = inspection_flag_missed(now=clock.now())
    missed = MissedInspection.objects.get(director=staff)
    assert report.flagged["week"] == 1
    assert (missed.period, missed.period_start, missed.done, missed.required) == (
        RulePeriod.WEEK,
        MON + dt.timedelta(days=7),
        1,
        2,
    )


def test_a_monthly_rule_and_the_top_level_reports_to_the_town(setup: Any, tree: Any) -> None:
    leader = setup["leader"]
    with time_machine.travel(at(dt.date(2026, 4, 1), 0, 5), tick=False):
        call_command("facilities_sweep", verbosity=0)
    missed = MissedInspection.objects.get(director=leader)
    assert (missed.period_start, missed.period_end, missed.done, missed.required) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
        0,
        2,
    )
    recipients = set(
        OutboxMessage.objects.filter(payload__missed_inspection_id=missed.pk).values_list("recipient", flat=True)
    )
    assert recipients == {"13900000011", f"area:{tree.town.code}"}


def test_a_director_is_not_judged_for_a_period_that_began_before_they_took_over(setup: Any) -> None:
    staff = setup["staff"]
    staff.since = MON + dt.timedelta(days=2)
    staff.save(update_fields=["since"])
    with time_machine.travel(at(MON + dt.timedelta(days=7), 1), tick=False):
        inspection_flag_missed(now=clock.now())
    assert not MissedInspection.objects.filter(director=staff).exists()


def test_an_ended_director_is_not_judged(setup: Any, tree: Any) -> None:
    make_director(
        facility=setup["toilet"], level=DirectorLevel.CLEANER, name="新保洁", since=MON + dt.timedelta(days=5)
    )
    with time_machine.travel(at(MON + dt.timedelta(days=2), 1), tick=False):
        inspection_flag_missed(now=clock.now())
    assert not MissedInspection.objects.filter(director=setup["cleaner"]).exists()


def test_the_worker_pass_flags_missed_inspections(setup: Any, settings: Any) -> None:
    """`run_worker --once` runs the facilities hook: a day without the cleaner's check is flagged."""
    settings.WANGGE_WORKER_HOOKS = ["wangge.facilities.services.facilities_sweep"]
    with time_machine.travel(at(MON + dt.timedelta(days=2), 9), tick=False):
        call_command("run_worker", "--once")
    assert MissedInspection.objects.filter(director=setup["cleaner"]).exists()
