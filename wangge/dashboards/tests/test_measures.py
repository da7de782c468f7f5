"""The measures of docs/glossary.md on a hand-counted story, and the rollups against a direct count of the rows.

`direct_counts` below is a second, independent definition of every counter written as ORM
filters over the demand and event rows (the way an auditor would count with SQL). The rollups
kept by the worker must give exactly the same numbers for every area, department, category and
period, on the story and on a few hundred demands with random histories.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
import time_machine
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from wangge.dashboards import measures, selectors, services
from wangge.dashboards.measures import bucket, bucket_bounds, exact_percentile, percentile
from wangge.dashboards.models import COUNTERS, FACTS_LEVELS, SUMS, Cut, DemandRollup
from wangge.dashboards.tests.conftest import ACCEPT_TIMES, CITY, NOW, RESOLVE_TIMES, at
from wangge.demands.models import CallBack, Category, Demand, DemandEvent
from wangge.demands.sla import LOCAL_TZ
from wangge.holidays.workdays import working_hours_between

OPEN = ["submitted", "in_progress", "escalated", "reopened"]
WAITING = ["submitted", "escalated", "reopened"]
PAUSED = ["suspended", "verifying"]
ANSWERED = ["resolved", "closed", "verifying"]


def direct_counts(qs: QuerySet[Demand], now: dt.datetime) -> dict[str, int]:
    """Every counter, straight from the rows (independent of measures.py and of the rollups)."""
    events = DemandEvent.objects.filter(demand=OuterRef("pk"))
    qs = qs.annotate(
        was_reopened=Exists(events.filter(action="reopen")),
        was_sent_back=Exists(events.filter(action="verify_back")),
        was_returned=Exists(events.filter(Q(action="return_") | Q(action="reject", to_state="escalated"))),
        auto_any=Exists(events.filter(action="auto_escalate")),
        auto_before=Exists(events.filter(action="auto_escalate", at__lt=OuterRef("accepted_at"))),
        due=Coalesce(F("case_due_at"), F("resolve_due_at")),
    )
    # The first answers: the resident's first rating (the earliest unsatisfied reopen, else the rating on
    # the row) or the first reached call back (回访) that answered, whichever came first (the rating on a tie).
    calls = CallBack.objects.filter(demand=OuterRef("pk"), reached=True).order_by("at", "id")
    rated_calls = calls.filter(satisfaction__isnull=False).exclude(satisfaction="")
    solved_calls = calls.filter(solved__isnull=False)
    qs = qs.annotate(
        first_unsat=Subquery(events.filter(action="reopen", actor_kind="resident").order_by("at").values("at")[:1]),
        cb_at=Subquery(rated_calls.values("at")[:1]),
        cb_sat=Subquery(rated_calls.values("satisfaction")[:1]),
        cs_at=Subquery(solved_calls.values("at")[:1]),
        cs_val=Subquery(solved_calls.values("solved")[:1]),
    ).annotate(
        rating_at=Case(
            When(first_unsat__isnull=False, then=F("first_unsat")),
            default=Coalesce(F("rated_at"), F("resolved_at"), F("created_at")),
        )
    )
    has_rating = Q(first_unsat__isnull=False) | (Q(satisfaction__isnull=False) & ~Q(satisfaction=""))
    has_call = Q(cb_at__isnull=False)
    rating_first = has_rating & (~has_call | Q(rating_at__lte=F("cb_at")))
    has_rsolved, has_csolved = Q(rated_solved__isnull=False), Q(cs_at__isnull=False)
    rsolved_first = has_rsolved & (~has_csolved | Q(rating_at__lte=F("cs_at")))
    happy = ["satisfied", "basic"]
    is_open = Q(state__in=OPEN)
    waiting_late = Q(state__in=WAITING, accept_due_at__lt=now)
    accepted = Q(accepted_at__isnull=False)
    auto_late = Q(auto_before=True) | Q(accepted_at__isnull=True, auto_any=True)
    resolved = Q(state__in=["resolved", "closed"], resolved_at__isnull=False)
    answered = Q(state__in=ANSWERED, resolved_at__isnull=False)
    handled = ~Q(state__in=["rejected", "merged"])
    own_level = Q(highest_level=F("area__level")) | Q(highest_level="")
    conditions = {
        "received": Q(),
        "open": Q(state__in=OPEN + PAUSED),
        "overdue": is_open & (Q(resolve_due_at__lt=now) | waiting_late),
        "accepted": accepted,
        "response_due": accepted | auto_late | waiting_late,
        "responded_on_time": accepted
        & ~auto_late
        & (Q(accept_due_at__isnull=True) | Q(accepted_at__lte=F("accept_due_at"))),
        "resolved": resolved,
        "answered": answered,
        "ontime_due": answered | (is_open & Q(due__lt=now)),
        "resolved_on_time": answered & (Q(due__isnull=True) | Q(resolved_at__lte=F("due"))),
        "asked_solved": has_rsolved | has_csolved,
        "solved": (rsolved_first & Q(rated_solved=True)) | (has_csolved & ~rsolved_first & Q(cs_val=True)),
        "resolved_ever": Q(resolved_at__isnull=False),
        "reworked": Q(was_reopened=True) | Q(was_sent_back=True),
        "rated": has_rating | has_call,
        "satisfied": (rating_first & Q(first_unsat__isnull=True, satisfaction__in=happy))
        | (has_call & ~rating_first & Q(cb_sat__in=happy)),
        "handed_on": Q(escalations__gt=0) | Q(dispatched_department__isnull=False),
        "returned": Q(was_returned=True),
        "local": resolved & own_level & Q(dispatched_department__isnull=True),
        "handled": handled,
        "extended": handled & Q(extensions__gt=0),
        "rejected": Q(state="rejected"),
        "merged": Q(state="merged"),
        "closed": Q(state="closed"),
        "climb_department": Q(dispatched_department__isnull=False),
    }
    for level in ("city", "town", "village", "branch", "grid"):
        conditions[f"climb_{level}"] = Q(highest_level=level) | Q(highest_level="", area__level=level)
    counts = {name: qs.filter(cond).count() for name, cond in conditions.items()}
    # Working time (opening hours of working days), in whole seconds.
    accept_pairs = qs.filter(accepted).values_list("accepted_at", "created_at")
    resolve_pairs = qs.filter(answered).values_list("resolved_at", "created_at")
    counts["accept_seconds"] = sum(round(working_hours_between(c, a) * 3600) for a, c in accept_pairs)
    counts["resolve_seconds"] = sum(round(working_hours_between(c, r) * 3600) for r, c in resolve_pairs)
    counts["urges"] = sum(qs.values_list("urges", flat=True))
    return counts


def in_days(qs: QuerySet[Demand], first: dt.date, last: dt.date) -> QuerySet[Demand]:
    start = dt.datetime.combine(first, dt.time.min, LOCAL_TZ)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, LOCAL_TZ)
    return qs.filter(created_at__gte=start, created_at__lt=end)


def rollup_counts(**where: Any) -> dict[str, int]:
    """Counters summed from the rollup rows alone (no live part); a grid's from its facts (FACTS_LEVELS)."""
    tally = measures.Tally()
    area = where.get("area")
    if area is not None and area.level in FACTS_LEVELS and where.get("cut") == Cut.TOTAL:
        assert not DemandRollup.objects.filter(**where).exists()  # no rows are kept for a grid
        start, end = where.get("day__gte", dt.date(2000, 1, 1)), where.get("day__lte", dt.date(2100, 1, 1))
        rows: Any = selectors.fact_rows(level=area.level, ids=[area.pk], start=start, end=end)
    else:
        rows = DemandRollup.objects.filter(**where)
    for row in rows:
        tally.add_row(row)
    return tally.counts


# --- the hand-counted story ---------------------------------------------------------------


@pytest.mark.django_db
def test_every_measure_on_the_story_is_what_was_counted_by_hand(story: Any, now: Any) -> None:
    services.rollup_refresh_recent()
    tally = selectors.figures(subject=selectors.Subject(area=story.tree.city), period=selectors.period_from("month"))
    assert tally.counts == CITY
    m = tally.measures()
    assert m["response_rate"] == 5 / 8
    assert m["ontime_rate"] == 5 / 8
    assert m["resolution_rate"] == 1 / 2  # D1 said solved, D3 not (with the first rating)
    assert m["satisfaction_rate"] == 2 / 3
    assert m["reopen_rate"] == 1 / 5
    assert m["return_rate"] == 1 / 4
    assert m["local_rate"] == 3 / 5
    assert m["accept_mean"] == sum(ACCEPT_TIMES) / 6
    assert m["resolve_mean"] == sum(RESOLVE_TIMES) / 5
    # Percentiles from the histogram stand for the bucket that holds the true nearest-rank value.
    for got, values, fraction in (
        (m["accept_median"], ACCEPT_TIMES, 0.5),
        (m["accept_p90"], ACCEPT_TIMES, 0.9),
        (m["resolve_median"], RESOLVE_TIMES, 0.5),
        (m["resolve_p90"], RESOLVE_TIMES, 0.9),
    ):
        true = exact_percentile(values, fraction)
        low, high = bucket_bounds(bucket(true))
        assert low <= got < high and abs(got - true) / true < 0.075, (got, true)


@pytest.mark.django_db
def test_the_story_by_area_department_and_day(story: Any, now: Any) -> None:
    tree = story.tree
    services.rollup_refresh_recent()
    month = selectors.period_from("month")
    town = selectors.figures(subject=selectors.Subject(area=tree.town), period=month).counts
    other = selectors.figures(subject=selectors.Subject(area=tree.other_town), period=month).counts
    assert town["received"] == 10 and other["received"] == 1
    assert {k: town[k] + other[k] for k in town} == CITY  # the towns add up to the city
    assert other["response_due"] == 1 and other["responded_on_time"] == 0 and other["overdue"] == 1
    village = selectors.figures(subject=selectors.Subject(area=tree.village), period=month).counts
    assert village["received"] == 10 and village["local"] == 3
    grid = selectors.figures(subject=selectors.Subject(area=tree.grid), period=month).counts
    assert grid["received"] == 7  # D1, D2, D9, D3, D8, D4, D11: the village's own three are not the grid's
    dept = selectors.figures(subject=selectors.Subject(department=tree.department), period=month).counts
    assert dept["received"] == 3 and dept["returned"] == 1 and dept["resolved"] == 1
    assert tree.other_department.pk not in DemandRollup.objects.values_list("department_id", flat=True)
    # Monday alone: D1, D2, D9, D6.
    monday = selectors.figures(
        subject=selectors.Subject(area=tree.city), period=selectors.Period(at(0, 0).date(), at(0, 0).date())
    )
    assert monday.counts["received"] == 4 and monday.counts["closed"] == 2 and monday.counts["rejected"] == 1
    # Today (live) against the rollup of the past: D11 is counted once.
    today = selectors.figures(subject=selectors.Subject(area=tree.city), period=selectors.period_from("today"))
    assert today.counts["received"] == 1 and today.counts["open"] == 1


@pytest.mark.django_db
def test_rollups_equal_a_direct_count_of_the_story(story: Any, now: Any) -> None:
    tree = story.tree
    services.rollup_refresh_recent()
    first, last = at(0, 0).date(), at(4, 0).date()
    everything = Demand.objects.all()
    for area in (tree.city, tree.town, tree.village, tree.branch, tree.grid, tree.other_town, tree.other_grid):
        direct = direct_counts(in_days(everything.filter(area_path__startswith=area.path), first, last), NOW)
        assert rollup_counts(area=area, cut=Cut.TOTAL) == direct, area.name
        by_category = rollup_counts(area=area, cut=Cut.CATEGORY) if area.level in ("city", "town") else direct
        assert by_category == direct, area.name
        by_channel = rollup_counts(area=area, cut=Cut.CHANNEL) if area.level in ("city", "town") else direct
        assert by_channel == direct, area.name
    dept = direct_counts(in_days(everything.filter(dispatched_department=tree.department), first, last), NOW)
    assert rollup_counts(department=tree.department, cut=Cut.TOTAL) == dept
    assert rollup_counts(department=tree.department, cut=Cut.CHANNEL) == dept
    for channel in set(everything.values_list("channel", flat=True)):
        mine = everything.filter(area_path__startswith=tree.city.path, channel=channel)
        assert rollup_counts(area=tree.city, cut=Cut.CHANNEL, channel=channel) == direct_counts(
            in_days(mine, first, last), NOW
        ), channel
    assert direct_counts(everything, NOW) == CITY


@pytest.mark.django_db
def test_refresh_is_idempotent_and_follows_moves_and_time(story: Any, now: Any, settings: Any) -> None:
    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0  # read exactly the new events (the margin is for slow commits)
    services.rollup_refresh_recent()
    rows = sorted(DemandRollup.objects.values_list("day", "key", *COUNTERS))
    services.rollup_refresh(since=services.EPOCH)  # again, everything: the same rows
    assert sorted(DemandRollup.objects.values_list("day", "key", *COUNTERS)) == rows
    # A move today on Tuesday's D7 refreshes Tuesday only.
    from wangge.demands import services as demand_services

    demand_services.demand_resolve(demand=story.d["D7"], actor=story.personas["village"], result="已处理")
    report = services.rollup_refresh_recent()
    assert report.days_list == [at(1, 0).date()]
    city = rollup_counts(area=story.tree.city, cut=Cut.TOTAL, day=at(1, 0).date())
    assert city["resolved"] == 2 and city["open"] == 0  # D3 and D7
    # Time alone: past D11's limit to accept (Friday 12:00), the next refresh counts it overdue.
    now.move_to(NOW + dt.timedelta(minutes=30))
    report = services.rollup_refresh_recent()
    assert at(4, 0).date() in report.days_list
    today = rollup_counts(area=story.tree.city, cut=Cut.TOTAL, day=at(4, 0).date())
    assert today["overdue"] == 1 and today["response_due"] == 1


# --- many random histories --------------------------------------------------------------------


RANDOM_STATES = (
    *("submitted", "in_progress", "escalated", "reopened", "resolved", "closed", "rejected", "merged"),
    *("suspended", "verifying"),
)


def _random_demands(tree: Any, n: int, seed: int) -> None:
    """Demand rows with random (but possible) columns and events, written directly (no services)."""
    rnd = random.Random(seed)
    areas = [tree.grid, tree.sibling_grid, tree.other_grid, tree.village, tree.branch, tree.other_town]
    categories = [*Category.objects.filter(parent__isnull=False)[:4], None]
    departments = [tree.department, tree.other_department, None, None]
    levels = ["grid", "branch", "village", "town", "city"]
    base = dt.datetime(2026, 3, 1, tzinfo=LOCAL_TZ)
    demands, plans = [], []
    for i in range(n):
        area = rnd.choice(areas)
        created = base + dt.timedelta(minutes=rnd.randint(0, 60 * 24 * 12))
        state = rnd.choice(RANDOM_STATES)
        accepted = (
            created + dt.timedelta(minutes=rnd.randint(1, 600)) if state != "submitted" and rnd.random() < 0.8 else None
        )
        resolved = None
        if state in ("resolved", "closed", "verifying") or (state == "reopened" and rnd.random() < 0.7):
            resolved = (accepted or created) + dt.timedelta(minutes=rnd.randint(1, 3000))
        satisfaction = (
            rnd.choice(["satisfied", "basic", "unsatisfied"]) if state == "closed" or rnd.random() < 0.1 else None
        )
        dept = rnd.choice(departments)
        area_level_i = levels.index(area.level)
        highest = rnd.choice([*levels[area_level_i:], ""])  # at or above its own level
        demands.append(
            Demand(
                code=f"R{seed}-{i:05d}",
                tracking_token=f"tok-{seed}-{i}",
                channel="hotline",
                title="随机",
                description="随机",
                area=area,
                area_path=area.path,
                holder_area=area,
                holder_path=area.path,
                holder_level=area.level,
                category=rnd.choice(categories),
                state=state,
                created_at=created,
                updated_at=created,
                accepted_at=accepted,
                accept_due_at=rnd.choice([None, created + dt.timedelta(hours=rnd.randint(1, 48))]),
                resolved_at=resolved,
                resolve_due_at=rnd.choice([None, created + dt.timedelta(hours=rnd.randint(2, 400))]),
                case_due_at=rnd.choice([None, created + dt.timedelta(hours=rnd.randint(2, 400))]),
                extensions=rnd.choice([0, 0, 0, 1, 2]),
                urges=rnd.choice([0, 0, 1, 3]),
                rated_solved=rnd.choice([None, None, True, False]) if satisfaction else None,
                rated_at=created + dt.timedelta(minutes=rnd.randint(1, 5000)) if satisfaction else None,
                satisfaction=satisfaction,
                highest_level=highest,
                escalations=rnd.choice([0, 0, 1, 2]),
                dispatched_department=dept,
            )
        )
        plans.append([rnd.random() < 0.15, rnd.random() < 0.1, rnd.random() < 0.1, rnd.random() < 0.1])
        plans[-1] += [rnd.random() < 0.1, rnd.randint(0, 2)]  # a verifier's send-back; call backs
    Demand.objects.bulk_create(demands)
    events, calls = [], []
    for demand, (reopen, ret, dept_reject, auto, sent_back, n_calls) in zip(
        Demand.objects.filter(code__startswith=f"R{seed}-").order_by("code"), plans, strict=True
    ):
        later = demand.created_at + dt.timedelta(minutes=rnd.randint(1, 900))
        if reopen:
            events.append(DemandEvent(demand=demand, at=later, action="reopen", to_state="reopened"))
        if ret:
            events.append(DemandEvent(demand=demand, at=later, action="return_", to_state="in_progress"))
        if dept_reject:
            events.append(
                DemandEvent(demand=demand, at=later, action="reject", to_state=rnd.choice(["escalated", "rejected"]))
            )
        if auto:
            events.append(DemandEvent(demand=demand, at=later, action="auto_escalate", to_state="escalated"))
        if sent_back:
            events.append(DemandEvent(demand=demand, at=later, action="verify_back", to_state="in_progress"))
        for _call in range(n_calls):
            calls.append(
                CallBack(
                    demand=demand,
                    at=later + dt.timedelta(minutes=rnd.randint(0, 5000)),
                    reached=rnd.random() < 0.8,
                    solved=rnd.choice([None, True, False]),
                    satisfaction=rnd.choice([None, "satisfied", "basic", "unsatisfied"]),
                )
            )
        events.append(DemandEvent(demand=demand, at=later, action="comment", to_state=demand.state))
    DemandEvent.objects.bulk_create(events)
    CallBack.objects.bulk_create(calls)


@pytest.mark.django_db
def test_rollups_equal_a_direct_count_on_random_histories(tree: Any) -> None:
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=LOCAL_TZ)
    _random_demands(tree, 400, seed=11)
    with time_machine.travel(now, tick=False):
        report = services.rollup_refresh(since=services.EPOCH)
    assert report.demands == 400
    everything = Demand.objects.all()
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 13)
    checks = 0
    for area in (tree.city, tree.town, tree.village, tree.branch, tree.grid, tree.other_town):
        mine = everything.filter(area_path__startswith=area.path)
        assert rollup_counts(area=area, cut=Cut.TOTAL) == direct_counts(in_days(mine, first, last), now), area.name
        # One week, and one category inside it.
        week = rollup_counts(area=area, cut=Cut.TOTAL, day__gte=dt.date(2026, 3, 2), day__lte=dt.date(2026, 3, 8))
        assert week == direct_counts(in_days(mine, dt.date(2026, 3, 2), dt.date(2026, 3, 8)), now), area.name
        if area.level in ("city", "town"):
            for category in Category.objects.filter(pk__in=mine.values("category_id")):
                got = rollup_counts(area=area, cut=Cut.CATEGORY, category=category)
                assert got == direct_counts(in_days(mine.filter(category=category), first, last), now)
                checks += 1
            got = rollup_counts(area=area, cut=Cut.CATEGORY, category__isnull=True)
            assert got == direct_counts(in_days(mine.filter(category__isnull=True), first, last), now)
    for dept in (tree.department, tree.other_department):
        direct = direct_counts(in_days(everything.filter(dispatched_department=dept), first, last), now)
        assert rollup_counts(department=dept, cut=Cut.TOTAL) == direct
    assert checks >= 6
    # And the percentiles agree with the raw times up to the histogram's resolution.
    with time_machine.travel(now, tick=False):
        m = selectors.figures(
            subject=selectors.Subject(area=tree.city), period=selectors.Period(first, dt.date(2026, 3, 9))
        ).measures()
    times = [
        working_hours_between(c, a) * 3600
        for a, c in in_days(everything, first, dt.date(2026, 3, 9))
        .filter(accepted_at__isnull=False)
        .values_list("accepted_at", "created_at")
    ]
    true = exact_percentile(times, 0.9)
    assert abs(m["accept_p90"] - true) / true < 0.075


# --- the pieces -------------------------------------------------------------------------------


def test_histogram_buckets_and_percentiles() -> None:
    assert bucket(0) == bucket(59) == 0
    assert bucket(60) == 1
    for seconds in (61, 600, 3600, 86400, 10 * 86400):
        low, high = bucket_bounds(bucket(seconds))
        assert low <= seconds < high
    hist: dict[str, int] = {}
    values = [30, 600, 600, 3600, 7200, 86400]
    for v in values:
        hist[str(bucket(v))] = hist.get(str(bucket(v)), 0) + 1
    for fraction in (0.5, 0.9):
        got, true = percentile(hist, fraction), exact_percentile(values, fraction)
        assert got is not None and true is not None and abs(got - true) / max(true, 60) < 0.075
    assert percentile({}, 0.5) is None and exact_percentile([], 0.5) is None


def test_rates_divide_by_zero_to_none_and_rank_by_three_rates() -> None:
    m = measures.Tally().measures()
    assert m["response_rate"] is None and m["accept_median"] is None
    assert measures.ranking_score(m) is None
    assert measures.ranking_score({"response_rate": 1.0, "resolution_rate": 0.5, "satisfaction_rate": None}) == 0.75
    assert set(SUMS) <= set(measures.Tally().counts)


@pytest.mark.django_db
def test_call_backs_count_in_satisfaction_and_resolution(story: Any, now: Any, settings: Any) -> None:
    """Hotline demands called back (回访): the first answer counts, and "not solved" is not a clean resolution."""
    from wangge.demands import services as demand_services

    settings.DASHBOARD_ROLLUP_ID_MARGIN = 0
    services.rollup_refresh_recent()
    d, personas = story.d, story.personas
    Demand.objects.filter(pk__in=[d["D3"].pk, d["D4"].pk, d["D6"].pk]).update(channel="hotline")
    for name in ("D3", "D4", "D6"):
        d[name].refresh_from_db()
    with time_machine.travel(at(3, 10), tick=False):
        # D4 (resolved by the branch): the village calls, basically satisfied: 2 of 3 → 3 of 4.
        demand_services.demand_call_back(
            demand=d["D4"], actor=personas["village"], reached=True, solved=True, satisfaction="basic"
        )
        # D3: the resident's unsatisfied rating came first; a later satisfied call back does not replace it.
        demand_services.demand_call_back(
            demand=d["D3"], actor=personas["branch"], reached=True, solved=True, satisfaction="satisfied"
        )
        # D6 (resolved by the village): the town finds it not solved and unsatisfied; it is reopened.
        demand_services.demand_call_back(
            demand=d["D6"],
            actor=personas["town"],
            reached=True,
            solved=False,
            satisfaction="unsatisfied",
            note="没解决",
        )
        # Nobody answers a second call on D4: nothing changes.
        demand_services.demand_call_back(demand=d["D4"], actor=personas["city_admin"], reached=False)
    services.rollup_refresh_recent()
    tally = selectors.figures(subject=selectors.Subject(area=story.tree.city), period=selectors.period_from("month"))
    counts, m = tally.counts, tally.measures()
    assert (counts["rated"], counts["satisfied"]) == (5, 3)  # D1, D2, D3, D4, D6; D1, D2, D4
    assert m["satisfaction_rate"] == 3 / 5  # was 2 / 3 without the call backs
    # The first answer to "is it solved?": D1 yes and D3 no (the residents), D4 yes and D6 no (the calls);
    # D3's later "solved" call back does not replace the resident's first answer.
    assert (counts["asked_solved"], counts["solved"]) == (4, 2)
    assert m["resolution_rate"] == 2 / 4
    assert direct_counts(Demand.objects.all(), NOW) == counts
    # The same answers by channel (回访 reaches the hotline's residents): D3, D4, D6 came by hotline.
    subject = selectors.Subject(area=story.tree.city)
    rows = {r["channel"]: r for r in selectors.channels(subject=subject, period=selectors.period_from("month"))}
    hotline = rows["hotline"]
    assert (hotline["received"], hotline["rated"], hotline["satisfied"]) == (3, 3, 1)  # D4 basic; D3, D6 not
    assert (hotline["asked_solved"], hotline["solved"]) == (3, 1)  # D4 solved; D3 (resident), D6 (call) not
    for name in ("received", "rated", "satisfied", "asked_solved", "solved"):
        assert sum(r[name] for r in rows.values()) == counts[name], name
    # Below the town there are no channel rollups: the village's table is read live, with the same figures.
    village = selectors.channels(
        subject=selectors.Subject(area=story.tree.village), period=selectors.period_from("month")
    )
    live = {r["channel"]: r["received"] for r in village}
    expected: dict[str, int] = {}
    for channel in Demand.objects.filter(area_path__startswith=story.tree.village.path).values_list(
        "channel", flat=True
    ):
        expected[channel] = expected.get(channel, 0) + 1
    assert live == expected


@pytest.mark.django_db
def test_a_grids_figures_read_from_its_facts_equal_its_figures_computed_live(story: Any, now: Any) -> None:
    """A grid keeps no rollup rows (FACTS_LEVELS): its past days are grouped from its facts, percentiles
    included, and its parent's drill-down reads its grids the same way."""
    tree = story.tree
    month = selectors.period_from("month")
    grid, branch = selectors.Subject(area=tree.grid), selectors.Subject(area=tree.branch)

    def seen() -> tuple[Any, ...]:
        with selectors.one_reading():
            return (
                selectors.figures(subject=grid, period=month).measures(),
                [(d, t.measures()) for d, t in selectors.daily(subject=grid, period=month)],
                [
                    (r["area"].pk, r["received"], r["resolved"])
                    for r in selectors.children(subject=branch, period=month)
                ],
            )

    live = seen()  # before the worker's first refresh every day is computed from the demands
    services.rollup_refresh_recent()
    assert DemandRollup.objects.filter(level="branch").exists()
    assert not DemandRollup.objects.filter(level="grid").exists()
    stored = seen()
    assert stored == live
    assert stored[0]["received"] == 7 and stored[0]["accept_median"] is not None
    assert any(received for _pk, received, _resolved in stored[2])
