"""Demands read into the rows the measures are computed over, and the local days they fall on.

The one reading shared by the live figures (selectors), the rollups (services) and the exports:
none of those imports another for it, so the dashboards modules stay a line (facts ← selectors ←
exports ← services) instead of a circle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.apps import apps

from wangge.core import clock
from wangge.core.clock import local_tz
from wangge.dashboards.measures import DemandRow, Tally, demand_facts, level_of_path
from wangge.demands.models import CallBack, DemandEvent
from wangge.registry.models import Area

DEMAND_FIELDS = (
    "id",
    "created_at",
    "state",
    "area_path",
    "accepted_at",
    "accept_due_at",
    "resolved_at",
    "resolve_due_at",
    "satisfaction",
    "highest_level",
    "escalations",
    "dispatched_department_id",
    "category_id",
    "rated_at",
    "channel",
    "case_due_at",
    "extensions",
    "urges",
    "rated_solved",
)
EVENT_ACTIONS = ("reopen", "return_", "auto_escalate", "reject", "verify_back")


# --- days and areas ---------------------------------------------------------------------------


def local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(local_tz()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day, aware."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())
    return start, start + dt.timedelta(days=1)


class AreaIndex:
    """Every area by path, and each path's ancestors (read once per refresh, not per demand)."""

    def __init__(self) -> None:
        self.by_path: dict[str, int] = dict(Area.objects.values_list("path", "id"))
        self._ancestors: dict[str, list[tuple[str, int, str]]] = {}

    def ancestors(self, path: str) -> list[tuple[str, int, str]]:
        """(level, area id, path) of the area at `path` and each area above it, top first."""
        found = self._ancestors.get(path)
        if found is None:
            parts = path.rstrip("/").split("/")
            found = []
            for i in range(len(parts)):
                prefix = "/".join(parts[: i + 1]) + "/"
                area_id = self.by_path.get(prefix)
                if area_id is not None:
                    found.append((level_of_path(prefix), area_id, prefix))
            self._ancestors[path] = found
        return found


# --- demand facts -------------------------------------------------------------------------


# A demand's events are never before its creation (the events' months are detached on that rule too,
# docs/scaling.md); a day's slack all the same. Reading the events from its first demand's creation on,
# PostgreSQL reads only those months of the events.
EVENT_SLACK = dt.timedelta(days=1)


def demand_rows(demands: Any) -> Iterator[tuple[DemandRow, int | None, int | None]]:
    """(row, category id, dispatched department id) of each demand of a queryset, with its event facts.

    Three queries whatever the number of demands: the demands, the few events the measures need
    (reopen, return, automatic escalation, a department's refusal, the verifier's send-back) and
    the reached call backs (回访).
    """
    rows = list(demands.values_list(*DEMAND_FIELDS))
    if not rows:
        return
    ids = [r[0] for r in rows]
    reopened: set[int] = set()
    sent_back: set[int] = set()
    returned: set[int] = set()
    auto_at: dict[int, dt.datetime] = {}
    unsatisfied_at: dict[int, dt.datetime] = {}
    call_back: dict[int, tuple[dt.datetime, str]] = {}
    call_solved: dict[int, tuple[dt.datetime, bool]] = {}
    events_from = min(r[1] for r in rows) - EVENT_SLACK
    # Chunks keep the IN list inside every database's parameter limit (one array parameter on PostgreSQL).
    for i in range(0, len(ids), 5000):
        events = DemandEvent.objects.filter(
            demand_id__any=ids[i : i + 5000], action__in=EVENT_ACTIONS, at__gte=events_from
        ).values_list("demand_id", "action", "at", "to_state", "actor_kind")
        for demand_id, action, at, to_state, actor_kind in events:
            if action == "reopen":
                reopened.add(demand_id)
                if actor_kind == "resident":
                    first = unsatisfied_at.get(demand_id)
                    unsatisfied_at[demand_id] = at if first is None or at < first else first
            elif action == "verify_back":
                sent_back.add(demand_id)
            elif action == "return_" or (action == "reject" and to_state == "escalated"):
                returned.add(demand_id)
            elif action == "auto_escalate":
                first = auto_at.get(demand_id)
                auto_at[demand_id] = at if first is None or at < first else first
        calls = CallBack.objects.filter(demand_id__any=ids[i : i + 5000], reached=True).order_by("at", "id")
        # The first reached call back that answered each question (回访 may leave one unanswered).
        for demand_id, at, satisfaction, solved in calls.values_list("demand_id", "at", "satisfaction", "solved"):
            if satisfaction:
                call_back.setdefault(demand_id, (at, satisfaction))
            if solved is not None:
                call_solved.setdefault(demand_id, (at, solved))
    for r in rows:
        (pk, created, state, path, accepted, accept_due, resolved, resolve_due, sat, highest, esc, dept, cat) = r[:13]
        rated_at, channel, case_due, extensions, urges, rated_solved = r[13:]
        call_at, call_satisfaction = call_back.get(pk, (None, None))
        solved_at, call_solved_answer = call_solved.get(pk, (None, None))
        first_auto = auto_at.get(pk)
        yield (
            DemandRow(
                created_at=created,
                state=state,
                area_path=path,
                accepted_at=accepted,
                accept_due_at=accept_due,
                resolved_at=resolved,
                resolve_due_at=resolve_due,
                satisfaction=sat,
                highest_level=highest,
                escalations=esc,
                dispatched_department_id=dept,
                reopened_ever=pk in reopened,
                returned_ever=pk in returned,
                auto_escalated_before_accept=first_auto is not None and (accepted is None or first_auto < accepted),
                rated_at=rated_at,
                first_unsatisfied_at=unsatisfied_at.get(pk),
                call_back_at=call_at,
                call_back_satisfaction=call_satisfaction,
                channel=channel,
                case_due_at=case_due,
                extensions=extensions,
                urges=urges,
                rated_solved=rated_solved,
                call_back_solved_at=solved_at,
                call_back_solved=call_solved_answer,
                sent_back_ever=pk in sent_back,
                demand_id=pk,
            ),
            cat,
            dept,
        )


def tally_demands(demands: Any, *, now: dt.datetime | None = None) -> Tally:
    """One tally over a queryset of demands (the live figures of today, and the tests' reference)."""
    now = now or clock.now()
    tally = Tally()
    for row, _cat, _dept in demand_rows(demands):
        tally.add_facts(demand_facts(row, now))
    return tally


# --- visits and opinions --------------------------------------------------------------------


def visit_models() -> tuple[Any, Any] | None:
    """(Visit, Opinion) when the visits app provides them with the fields counted here, else None."""
    if not apps.is_installed("wangge.visits"):
        return None
    try:
        visit = apps.get_model("visits", "Visit")
        opinion = apps.get_model("visits", "Opinion")
    except LookupError:
        return None
    names = {f.name for f in visit._meta.get_fields()}
    if not {"area_path", "visited_at", "created_at"} <= names:
        return None
    if not {"area_path", "created_at", "visit"} <= {f.name for f in opinion._meta.get_fields()}:
        return None
    return visit, opinion
