"""The sweep reads only demands that newly cross a line, and finds exactly what the old, wider reads found.

The red flag used to read every open demand past its limit and skip the red ones (every pass, all of
them again); the escalation read every waiting demand past its limit and skipped those held by a
department or the city. The narrowed reads (`due_for_red`, `due_to_escalate`, each served by its own
partial index) must select the same demands, in the same order, at every stage of their life.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.db import transaction

from wangge.demands import sweep
from wangge.demands.models import OPEN_STATES, WAITING_STATES, Demand, DemandEvent, State, WarningLevel
from wangge.demands.testing import make_demand
from wangge.demands.transitions import CAN_ESCALATE

T0 = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)  # Wednesday 10:00 in Shanghai


def old_due_for_red(now: dt.datetime) -> list[int]:
    """The red flag's read before: open, past the limit, not red."""
    qs = Demand.objects.filter(state__in=OPEN_STATES, resolve_due_at__lte=now).exclude(warning=WarningLevel.RED)
    return list(qs.order_by("resolve_due_at", "id").values_list("pk", flat=True))


def old_due_to_escalate(now: dt.datetime) -> list[int]:
    """The escalation's read before: open and waiting, past the limit, held by a level that can climb."""
    qs = Demand.objects.filter(state__in=OPEN_STATES).filter(
        state__in=WAITING_STATES, accept_due_at__lte=now, holder_department__isnull=True
    )
    qs = qs.filter(holder_level__in=sorted(CAN_ESCALATE))
    return list(qs.order_by("accept_due_at", "id").values_list("pk", flat=True))


def new_ids(qs: Any) -> list[int]:
    return list(qs.values_list("pk", flat=True))


def build_stages(tree: Any, *, states: list[str], offsets: list[int | None], levels: int = 5) -> list[Demand]:
    """A demand for each combination of state, flag, limits (hours from T0) and holder."""
    with time_machine.travel(T0, tick=False):
        model = make_demand(grid=tree.grid)
    holders = [
        ("grid", tree.grid, None),
        ("branch", tree.branch, None),
        ("town", tree.town, None),
        ("city", tree.city, None),
        ("town", tree.town, tree.department),
    ][-levels:]
    copied = [
        f.attname
        for f in Demand._meta.concrete_fields
        if f.attname not in ("id", "code", "tracking_token", "short_code", "idempotency_key")
    ]
    rows = []
    combos = itertools.product(states, WarningLevel.values, offsets, [o for o in offsets if o is not None], holders)
    for n, (state, warning, resolve, accept, (level, area, department)) in enumerate(combos):
        demand = Demand(
            **{name: getattr(model, name) for name in copied},
            code=f"STAGE-{n:05d}",
            tracking_token=f"stage-token-{n}",
            short_code=f"st{n}",
        )
        demand.state, demand.warning = state, warning
        demand.resolve_due_at = None if resolve is None else T0 + dt.timedelta(hours=resolve)
        demand.accept_due_at = T0 + dt.timedelta(hours=accept)
        demand.holder_level, demand.holder_area_id, demand.holder_path = level, area.pk, area.path
        demand.holder_department_id = department.pk if department is not None else None
        rows.append(demand)
    return Demand.objects.bulk_create(rows)


@pytest.mark.django_db
def test_the_narrow_reads_select_what_the_old_reads_did_at_every_stage(tree: Any) -> None:
    # none, long past, just past, just ahead, far ahead
    stages = build_stages(tree, states=State.values, offsets=[None, -30, -2, 1, 50])
    assert len(stages) > 1500
    for hours in (-40, -3, 0, 2, 30, 60):
        now = T0 + dt.timedelta(hours=hours)
        assert new_ids(sweep.due_for_red(now)) == old_due_for_red(now), hours
        assert new_ids(sweep.due_to_escalate(now)) == old_due_to_escalate(now), hours
    # Something is due at T0, and already-red demands past their limit are there to be skipped.
    assert old_due_for_red(T0) and old_due_to_escalate(T0)
    assert Demand.objects.filter(state__in=OPEN_STATES, warning="red", resolve_due_at__lte=T0).exists()


class Rollback(Exception):
    pass


def outcome() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every demand's state after a pass, and the events the pass wrote."""
    demands = list(
        Demand.objects.order_by("pk").values_list(
            "pk", "state", "warning", "holder_level", "holder_path", "holder_department_id", "escalations",
            "accept_due_at", "resolve_due_at", "version",
        )
    )  # fmt: skip
    events = sorted(DemandEvent.objects.values_list("demand_id", "action", "to_state", "note"))
    return demands, events


def old_red_qs(now: dt.datetime) -> Any:
    return (
        sweep._open().filter(resolve_due_at__lte=now).exclude(warning=WarningLevel.RED).order_by("resolve_due_at", "id")
    )


def old_escalate_qs(now: dt.datetime) -> Any:
    return (
        sweep._open()
        .filter(state__in=WAITING_STATES, accept_due_at__lte=now, holder_department__isnull=True)
        .filter(holder_level__in=sorted(CAN_ESCALATE))
        .order_by("accept_due_at", "id")
    )


@pytest.mark.django_db
def test_passes_with_the_narrow_reads_leave_what_passes_with_the_old_reads_left(tree: Any, monkeypatch: Any) -> None:
    # Held by the town (it climbs), the city (it cannot) and a department (it is not escalated).
    build_stages(tree, states=[State.SUBMITTED, State.IN_PROGRESS, State.CLOSED], offsets=[None, -30, 1], levels=3)
    results = {}
    for name in ("old", "new"):
        try:
            with transaction.atomic():
                if name == "old":
                    monkeypatch.setattr(sweep, "due_for_red", old_red_qs)
                    monkeypatch.setattr(sweep, "due_to_escalate", old_escalate_qs)
                reports = []
                for hours in (0, 3, 60):  # three passes, at later and later stages
                    with time_machine.travel(T0 + dt.timedelta(hours=hours), tick=False):
                        reports.append(sweep.sweep_once())
                results[name] = (outcome(), [(r.escalated, r.red, r.yellow, r.errors) for r in reports])
                raise Rollback
        except Rollback:
            monkeypatch.undo()
    (old_rows, old_events), old_counts = results["old"]
    (new_rows, new_events), new_counts = results["new"]
    assert new_counts == old_counts and sum(red for _e, red, _y, _x in new_counts) > 0
    assert sum(escalated for escalated, _r, _y, _x in new_counts) > 0
    assert new_rows == old_rows and new_events == old_events and len(new_events) > 0
