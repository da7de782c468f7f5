"""The demo: the article's targets, a road with 7月1日前试通车, checked progress; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from wangge.projects import demo, selectors
from wangge.projects.models import LivelihoodProject, ProgressReport, ReportState

pytestmark = pytest.mark.django_db


def test_the_demo_has_the_articles_targets_and_some_checked_progress(tree: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 8, 10, 2, 0, tzinfo=dt.UTC), tick=False):
        counts = demo.seed(tree.city)
        rows = selectors.public_projects(year=2026)
    assert counts["projects"] == 10
    targets = {p.name: (p.target, p.unit) for p in LivelihoodProject.objects.all()}
    assert targets["新增公办中小学学位"] == (4000, "学位")
    assert targets["新增公共停车泊位"] == (14500, "个")
    assert targets["新增医疗卫生机构床位"] == (800, "张")
    assert targets["城区公厕新建和改造"] == (6, "座")
    assert targets["农村户厕改造"] == (10000, "户")
    assert targets["新建农村公厕"] == (40, "座")
    assert targets["老旧小区加装电梯"] == (83, "个小区")
    road = LivelihoodProject.objects.get(domain="major_works")
    trial = road.milestones.get(name="7月1日前试通车")
    assert trial.due_on == dt.date(2026, 7, 1) and trial.done_on is not None and trial.done_on <= trial.due_on
    # Seven monthly reports by 10 August: six checked, the latest awaiting the city.
    assert ProgressReport.objects.filter(state=ReportState.CHECKED).count() == 60
    assert ProgressReport.objects.filter(state=ReportState.SUBMITTED).count() == 10
    assert all(0 < r.measure.achieved < r.measure.target for r in rows)
    assert {r.measure.status for r in rows} >= {"on_track", "at_risk"}
    assert demo.seed(tree.city)["projects"] == 0


def test_seed_projects_command(tree: Any) -> None:
    out = io.StringIO()
    call_command("seed_projects", "--year", "2025", stdout=out)
    assert "projects 10" in out.getvalue()
    assert LivelihoodProject.objects.filter(year=2025).count() == 10
