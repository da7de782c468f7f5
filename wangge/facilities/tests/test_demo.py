"""The demo: 72 toilets (6 in the centre streets), three directors each with the 安吉 rules; idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from wangge.core import clock
from wangge.demands.models import Demand
from wangge.facilities.demo import seed, seed_inspections
from wangge.facilities.models import DirectorLevel, Facility, FacilityDirector, Inspection, RulePeriod
from wangge.facilities.selectors import director_records
from wangge.registry.testing import make_area

pytestmark = pytest.mark.django_db


def test_seventy_two_toilets_with_three_directors_each(tree: Any, personas: Any) -> None:
    # A third, rural town besides the two streets of the test tree.
    town = make_area(level="town", parent=tree.city, name="大瑶镇")
    village = make_area(level="village", parent=town, name="大瑶村")
    branch = make_area(level="branch", parent=village, name="大瑶村党支部")
    make_area(level="grid", parent=branch, name="大瑶1号微网格", number=1)
    counts = seed(tree.city, weeks=0)
    assert counts["toilets"] == 72 and counts["directors"] == 216
    toilets = Facility.objects.filter(facility_type__code="toilet")
    assert toilets.count() == 72
    assert toilets.filter(area_path__startswith=town.path).count() == 66
    street_paths = (tree.town.path, tree.other_town.path)
    assert sum(toilets.filter(area_path__startswith=p).count() for p in street_paths) == 6
    rules = {(d.level, d.rule_count, d.rule_period) for d in FacilityDirector.objects.filter(is_active=True)}
    assert rules == {
        (DirectorLevel.BUREAU_LEADER, 2, RulePeriod.MONTH),
        (DirectorLevel.SANITATION_STAFF, 2, RulePeriod.WEEK),
        (DirectorLevel.CLEANER, 1, RulePeriod.DAY),
    }
    assert not FacilityDirector.objects.filter(level=DirectorLevel.CLEANER, user__isnull=False).exists()
    # A second run changes nothing.
    assert seed(tree.city, weeks=0)["directors"] == 0
    assert Facility.objects.count() == 72


def test_a_week_of_inspections_with_some_failures(tree: Any, personas: Any, settings: Any, tmp_path: Any) -> None:
    from wangge.facilities.demo import seed_toilets

    # A fixed week: the seeded draws fall on the days of the week, so which checks fail depends on the date.
    with time_machine.travel(dt.datetime(2026, 12, 6, 12, 0, tzinfo=clock.local_tz()), tick=False):
        seed_toilets(tree.city, total=8, since=clock.today_local() - dt.timedelta(days=7))
        made = seed_inspections(tree.city, weeks=1)
        assert made == Inspection.objects.count() > 50
        assert Inspection.objects.filter(result="fail").exists()
        assert Demand.objects.filter(channel="inspection").exists()
        assert seed_inspections(tree.city, weeks=1) == 0
        records = director_records(user=personas["city_admin"])
        assert len(records) == 24 and any(r.done for r in records)


def test_the_command_needs_a_city(db: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_facilities", verbosity=0)
