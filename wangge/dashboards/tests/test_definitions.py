"""Each measure of docs/measures.md on a table of demands counted by hand, the same table written as
rows (live before the worker's first pass, then from the rollups), the docs against the definitions
and the `?` on every card.

The table (week of Monday 9 March 2026, Shanghai time, working days 08:30–17:30; now Friday 12:00):

| | state | filed | accepted | resolved | case deadline | other |
|---|---|---|---|---|---|---|
| A | closed | Mon 09:00 | Mon 10:00 | Tue 10:00 | Mon 17:00 | holder's limit Tue 12:00 (1) |
| B | resolved | Mon 09:00 | Mon 09:30 | Wed 15:00 | Thu 17:00 | 1 extension, 2 urges (2) |
| C | suspended | Mon 09:00 | Mon 09:30 | — | Tue 12:00 | not late while suspended |
| D | verifying | Tue 09:00 | Tue 09:30 | Tue 16:00 | Wed 12:00 | sent back once by the verifier |
| E | in_progress | Tue 09:00 | Tue 10:00 | — | Wed 12:00 | holder's limit Fri 17:00; 1 urge |
| F | rejected | Wed 09:00 | — | — | — | |
| G | reopened | Wed 09:00 | Wed 09:30 | Wed 11:00 | Fri 17:00 | 1 extension (3) |

(1) a hand-over moved the holder's limit; rated satisfied Tue 11:00, "solved".
(2) call backs Thu 10:00 "not solved" / basically satisfied, Thu 11:00 "solved" / satisfied.
(3) rated unsatisfied Wed 12:00, "not solved" (reopened); call back Thu 09:00 "solved" / satisfied.

By hand:
- 按期办结率: due A, B, D (the holder answered; D awaits verification) and E (open past its case
  deadline) = 4; on time B (extended), D = 2 → 2/4. A is late although its last holder's limit was
  not; C is not counted while suspended; G's case deadline has not passed.
- 解决率: first answers to "is it solved?" A yes (rating), B no (the first call back), G no (the
  rating, before the call back) → 1/3.
- 满意率: first answers A satisfied, B basic (call back), G unsatisfied (rating, first) → 2/3;
  rated share 3 of the 4 resolved at least once (A, B, D, G) → 3/4.
- 返工率: D (sent back) and G (reopened) of A, B, D, G → 2/4.
- 延期率: B and G of the 6 handled (all but F) → 2/6. 督办数: 2 + 1 = 3.
- Time to accept (working): A 1 h, B, C, D, G 0.5 h, E 1 h (4 h in all) → median 0.5 h, P90 1 h.
- Time to resolve (working, the holder's answer): A Mon 09:00 → Tue 10:00 = 8.5 + 1.5 = 10 h,
  B Mon 09:00 → Wed 15:00 = 8.5 + 9 + 6.5 = 24 h, D 7 h → median 10 h, P90 24 h.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from wangge.accounts.models import Role
from wangge.dashboards import selectors, services
from wangge.dashboards.definitions import MEASURES
from wangge.dashboards.management.commands.measures_doc import doc_path, render
from wangge.dashboards.measures import DemandRow, Tally, bucket, demand_facts
from wangge.dashboards.models import COUNTERS, HISTOGRAMS, SUMS, DemandRollup, RollupState
from wangge.demands.models import CallBack, Demand, DemandEvent
from wangge.demands.sla import LOCAL_TZ

MONDAY = dt.date(2026, 3, 9)
NOW = dt.datetime(2026, 3, 13, 12, 0, tzinfo=LOCAL_TZ)
H = 3600


def t(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute), LOCAL_TZ)


# name: demand columns, then events (action, when, actor kind) and call backs (when, solved, satisfaction).
TABLE: dict[str, dict[str, Any]] = {
    "A": {
        "state": "closed",
        "created_at": t(0, 9),
        "accepted_at": t(0, 10),
        "resolved_at": t(1, 10),
        "case_due_at": t(0, 17),
        "resolve_due_at": t(1, 12),
        "satisfaction": "satisfied",
        "rated_at": t(1, 11),
        "rated_solved": True,
    },
    "B": {
        "state": "resolved",
        "created_at": t(0, 9),
        "accepted_at": t(0, 9, 30),
        "resolved_at": t(2, 15),
        "case_due_at": t(3, 17),
        "extensions": 1,
        "urges": 2,
        "calls": [(t(3, 10), False, "basic"), (t(3, 11), True, "satisfied")],
    },
    "C": {
        "state": "suspended",
        "created_at": t(0, 9),
        "accepted_at": t(0, 9, 30),
        "case_due_at": t(1, 12),
        "resolve_due_at": t(1, 12),
    },
    "D": {
        "state": "verifying",
        "created_at": t(1, 9),
        "accepted_at": t(1, 9, 30),
        "resolved_at": t(1, 16),
        "case_due_at": t(2, 12),
        "events": [("verify_back", t(1, 14), "staff")],
    },
    "E": {
        "state": "in_progress",
        "created_at": t(1, 9),
        "accepted_at": t(1, 10),
        "case_due_at": t(2, 12),
        "resolve_due_at": t(4, 17),
        "urges": 1,
    },
    "F": {"state": "rejected", "created_at": t(2, 9)},
    "G": {
        "state": "reopened",
        "created_at": t(2, 9),
        "accepted_at": t(2, 9, 30),
        "resolved_at": t(2, 11),
        "case_due_at": t(4, 17),
        "extensions": 1,
        "satisfaction": "unsatisfied",
        "rated_at": t(2, 12),
        "rated_solved": False,
        "events": [("reopen", t(2, 12), "resident")],
        "calls": [(t(3, 9), True, "satisfied")],
    },
}
HAND = {
    "received": 7,
    "open": 4,  # C, D, E, G
    "answered": 3,  # A, B, D
    "resolved": 2,  # A, B
    "ontime_due": 4,
    "resolved_on_time": 2,
    "asked_solved": 3,
    "solved": 1,
    "rated": 3,
    "satisfied": 2,
    "resolved_ever": 4,
    "reworked": 2,
    "handled": 6,
    "extended": 2,
    "urges": 3,
    "accept_seconds": (1 + 0.5 + 0.5 + 0.5 + 1 + 0.5) * H,
    "resolve_seconds": (10 + 24 + 7) * H,
}
RATES = {
    "ontime_rate": 2 / 4,
    "resolution_rate": 1 / 3,
    "satisfaction_rate": 2 / 3,
    "rated_share": 3 / 4,
    "reopen_rate": 2 / 4,
    "extension_rate": 2 / 6,
}


def _row(spec: dict[str, Any]) -> DemandRow:
    events = spec.get("events", [])
    calls = spec.get("calls", [])
    rated = next(((at, s) for at, _solved, s in calls if s), (None, None))
    solved = next(((at, s) for at, s, _sat in calls if s is not None), (None, None))
    unsatisfied = [at for action, at, kind in events if action == "reopen" and kind == "resident"]
    return DemandRow(
        created_at=spec["created_at"],
        state=spec["state"],
        area_path="430181/",
        accepted_at=spec.get("accepted_at"),
        accept_due_at=None,
        resolved_at=spec.get("resolved_at"),
        resolve_due_at=spec.get("resolve_due_at"),
        satisfaction=spec.get("satisfaction"),
        highest_level="",
        escalations=0,
        dispatched_department_id=None,
        reopened_ever=any(action == "reopen" for action, _at, _k in events),
        rated_at=spec.get("rated_at"),
        first_unsatisfied_at=min(unsatisfied) if unsatisfied else None,
        call_back_at=rated[0],
        call_back_satisfaction=rated[1],
        case_due_at=spec.get("case_due_at"),
        extensions=spec.get("extensions", 0),
        urges=spec.get("urges", 0),
        rated_solved=spec.get("rated_solved"),
        call_back_solved_at=solved[0],
        call_back_solved=solved[1],
        sent_back_ever=any(action == "verify_back" for action, _at, _k in events),
    )


def _check(tally: Tally) -> None:
    counts = tally.counts
    assert {k: counts[k] for k in HAND} == HAND
    m = tally.measures()
    assert {k: m[k] for k in RATES} == RATES
    # Percentiles stand for the bucket that holds the true nearest-rank value.
    for got, true in (
        (m["accept_median"], 0.5 * H),
        (m["accept_p90"], 1 * H),
        (m["resolve_median"], 10 * H),
        (m["resolve_p90"], 24 * H),
    ):
        assert bucket(got) == bucket(true), (got, true)


@pytest.mark.django_db  # working time reads the county's holiday calendar
def test_each_measure_on_the_hand_counted_table() -> None:
    tally = Tally()
    for spec in TABLE.values():
        tally.add_facts(demand_facts(_row(spec), NOW))
    _check(tally)
    # A alone: the hand-over moved its holder's limit (Tue 12:00) but not the case deadline (Mon 17:00).
    a = demand_facts(_row(TABLE["A"]), NOW)
    assert (a["ontime_due"], a["resolved_on_time"]) == (1, 0)
    # C, suspended past its case deadline, is not late; once resumed (in progress) it is.
    c = _row(TABLE["C"])
    assert demand_facts(c, NOW)["ontime_due"] == 0
    assert demand_facts(DemandRow(**{**c.__dict__, "state": "in_progress"}), NOW)["ontime_due"] == 1
    # Without a case deadline (old demands) the holder's limit is the deadline.
    assert demand_facts(_row({**TABLE["A"], "case_due_at": None}), NOW)["resolved_on_time"] == 1


def _write(tree: Any) -> None:
    """The table as rows (no services: the services of extensions, urges and verification are not this app's)."""
    for name, spec in TABLE.items():
        columns = {k: v for k, v in spec.items() if k not in ("events", "calls")}
        demand = Demand.objects.create(
            code=f"T-{name}",
            tracking_token=f"tok-{name}",
            channel="hotline",
            title=name,
            description=name,
            area=tree.grid,
            area_path=tree.grid.path,
            holder_area=tree.grid,
            holder_path=tree.grid.path,
            holder_level="grid",
            updated_at=spec["created_at"],
            **columns,
        )
        Demand.objects.filter(pk=demand.pk).update(created_at=spec["created_at"])
        for action, at, kind in spec.get("events", []):
            DemandEvent.objects.create(demand=demand, at=at, action=action, to_state="in_progress", actor_kind=kind)
        for at, solved, satisfaction in spec.get("calls", []):
            CallBack.objects.create(demand=demand, at=at, reached=True, solved=solved, satisfaction=satisfaction)


@pytest.mark.django_db
def test_before_the_first_worker_pass_the_figures_are_already_right(tree: Any) -> None:
    """A fresh database: demands and no rollup yet. The dashboard computes the missing days live."""
    _write(tree)
    week = selectors.Period(MONDAY, MONDAY + dt.timedelta(days=4))
    with time_machine.travel(NOW, tick=False):
        assert not DemandRollup.objects.exists()
        for area in (tree.city, tree.town, tree.grid):
            _check(selectors.figures(subject=selectors.Subject(area=area), period=week))
        by_day = dict(selectors.daily(subject=selectors.Subject(area=tree.city), period=week))
        assert [by_day[MONDAY + dt.timedelta(days=i)].counts["received"] for i in range(5)] == [3, 2, 2, 0, 0]
        assert selectors.area_tallies(areas=[tree.town], period=week)[tree.town.pk].counts["urges"] == 3
        # The worker's first pass writes the rollups; the figures, now read from them, are the same.
        services.rollup_refresh_recent()
        assert DemandRollup.objects.filter(day=MONDAY, area=tree.city).exists()
        for area in (tree.city, tree.town, tree.grid):
            _check(selectors.figures(subject=selectors.Subject(area=area), period=week))
        rows = Tally()
        for row in DemandRollup.objects.filter(area=tree.city, cut="total"):
            rows.add_row(row)
        _check(rows)  # the rollup rows alone equal the live computation
        assert selectors.area_tallies(areas=[tree.town], period=week)[tree.town.pk].counts["urges"] == 3


@pytest.mark.django_db
def test_the_migration_reset_leaves_the_rebuild_to_the_worker(tree: Any) -> None:
    """What 0003 does to a database (empty the rollups, reset the state): right at once, rebuilt by the next pass."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("wangge.dashboards.migrations.0003_measures_that_mean_what_they_say")
    _write(tree)
    week = selectors.Period(MONDAY, MONDAY + dt.timedelta(days=4))
    with time_machine.travel(NOW, tick=False):
        services.rollup_refresh_recent()
        migration.forget_rollups(apps, None)
        assert not DemandRollup.objects.exists()
        assert RollupState.objects.get(name="demands").refreshed_at is None
        _check(selectors.figures(subject=selectors.Subject(area=tree.city), period=week))
        report = services.rollup_refresh_recent()  # the first pass after the reset: everything
        assert report.days == 3 and DemandRollup.objects.filter(area=tree.city).count() >= 3
        call_command("rollup_rebuild")  # the same at once, by hand
        _check(selectors.figures(subject=selectors.Subject(area=tree.city), period=week))


def test_the_docs_are_written_from_the_definitions() -> None:
    """docs/measures.md is exactly what `manage.py measures_doc` writes from MEASURES."""
    assert doc_path().read_text(encoding="utf-8") == render(), "run: manage.py measures_doc"
    call_command("measures_doc", "--check")
    text = render()
    for m in MEASURES:
        assert m.numerator in (*COUNTERS, *SUMS, *HISTOGRAMS), m.key
        assert not m.denominator or m.denominator in COUNTERS, m.key
        with translation.override("zh-hans"):
            assert str(m.formula) in text and str(m.which) in text
        with translation.override("en"):
            assert str(m.formula) in text and m.zh in text


@pytest.mark.django_db
def test_every_card_has_its_definition_behind_a_question_mark(tree: Any, personas: Any) -> None:
    _write(tree)
    client = Client()
    client.force_login(personas[Role.CITY_ADMIN])
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("dashboards:dashboard")).content.decode()
    cards = re.findall(r'<article class="kpi" data-measure="([^"]+)".*?</article>', html, re.S)
    wanted = [m.key for m in MEASURES if m.card]
    assert cards == wanted
    with translation.override("zh-hans"):
        for m in MEASURES:
            if not m.card:
                continue
            block = re.search(rf'data-measure="{m.key}"(.*?)</article>', html, re.S).group(1)
            # An accessible button describes itself by the definition and opens it (popover: touch too).
            assert f'popovertarget="def-{m.key}" aria-describedby="def-{m.key}"' in block
            definition = re.search(rf'<div id="def-{m.key}" popover role="tooltip"[^>]*>(.*?)</div>', block, re.S)
            assert definition, m.key
            assert str(m.formula) in definition.group(1) and str(m.which) in definition.group(1)
    # The rated share beside 满意率: 3 rated of the 4 resolved at least once.
    assert re.search(r'data-testid="rated-share">参评率 75.0%<', html)
    assert re.search(r'data-measure="urges".*?class="num" data-value="3"', html, re.S)
    # 督办数 in the monthly ranking too (the town of the table's grid).
    with time_machine.travel(NOW, tick=False):
        ranking = client.get(reverse("dashboards:ranking")).content.decode()
    row = re.search(rf'<tr data-area="{tree.town.pk}".*?</tr>', ranking, re.S)
    assert row and '<td data-testid="urges">3</td>' in row.group(0)
