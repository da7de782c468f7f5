"""The measures of docs/glossary.md ("What the city measures"), defined once, on one demand at a time.

Every figure is about the demands RECEIVED in a period (by local day of `created_at`), in an area
(the demand's own area and everything above it) or sent to a department, as they stand now. Each
demand contributes 0 or 1 to each counter below; a measure is one counter divided by another, so
sums over days, areas and categories stay exact and the rollups can be added up freely.

| measure | numerator ÷ denominator |
|---|---|
| response rate 响应率 | `responded_on_time` ÷ `response_due` |
| on-time resolution 按期办结率 | `resolved_on_time` ÷ `ontime_due` |
| resolution rate 解决率 | `resolved_clean` ÷ `resolved` |
| satisfaction 满意率 | `satisfied` ÷ `rated` |
| reopen rate 返工率 | `reopened` ÷ `resolved_ever` |
| return rate 回退率 | `returned` ÷ `handed_on` |
| local resolution 就地解决率 | `local` ÷ `resolved` |
| time to accept / resolve | median and 90th percentile of `accept_hist` / `resolve_hist` |

The counters (a demand is "waiting" in submitted, escalated or reopened; "open" also in progress):
- `response_due`: accepted at least once, or its limit to accept passed while it waited (it was
  escalated automatically before anyone accepted it, or it is still waiting past the limit);
- `responded_on_time`: first accepted within the limit and never escalated automatically before
  that. The demand row keeps the limit of its current holder: a late first acceptance by a holder
  that the sweep does not escalate (a department or the city) followed by a change of holder is
  therefore counted on time. The automatic escalation catches every other late acceptance.
- `resolved`: resolved or closed after resolution (state resolved or closed);
- `ontime_due`: resolved, or open past its limit to resolve; `resolved_on_time`: resolved by the
  limit of the holder that resolved it (the limit is not reset by rating or closing);
- `resolved_clean`: resolved, never reopened and never called back (回访) as not solved;
  `resolved_ever`: resolved at least once (also those reopened since); `reopened`: reopened at
  least once (an event `reopen`);
- `rated` / `satisfied`: the first answer about the demand, the resident's rating or a reached call
  back (回访) by staff, whichever came first / that answer is satisfied or basically satisfied
  (a resident's rating is final unless unsatisfied, so the first one is the earliest unsatisfied
  reopen by a resident, or else the rating on the row);
- `handed_on`: escalated or dispatched at least once; `returned`: sent back down at least once
  (a `return_` move, or a department's refusal that sends it back to its dispatcher);
- `local`: resolved without leaving the level where it was filed (never escalated above the
  demand's own area, never dispatched to a department);
- `climb_<level>`: the highest level it reached; `climb_department`: dispatched to a department.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wangge.dashboards.models import COUNTERS, HISTOGRAMS, SUMS

OPEN = frozenset({"submitted", "in_progress", "escalated", "reopened"})
WAITING = frozenset({"submitted", "escalated", "reopened"})
RESOLVED = frozenset({"resolved", "closed"})
# Not finished although no holder's clock runs: suspended (挂起) or waiting for its verifier (核查).
UNFINISHED = OPEN | {"suspended", "verifying"}
SATISFIED = frozenset({"satisfied", "basic"})
LEVELS = ("city", "town", "village", "branch", "grid")
# Depth of an area from the number of segments of its path ("430181/430181100/" is a town).
LEVEL_BY_DEPTH = {i + 1: level for i, level in enumerate(LEVELS)}

# Histogram of times: bucket 0 is under a minute; bucket i ≥ 1 holds [60·r^(i-1), 60·r^i) seconds.
# With r = 1.15 a percentile read from the histogram is within 7.5 % of the true value.
HIST_RATIO = 1.15
HIST_MAX = 120  # 60 s · 1.15^119 is far beyond any limit (the last bucket takes the rest)
_LOG_RATIO = math.log(HIST_RATIO)


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration."""
    if seconds < 60:
        return 0
    return min(HIST_MAX, 1 + int(math.log(seconds / 60.0) / _LOG_RATIO))


def bucket_bounds(index: int) -> tuple[float, float]:
    """[low, high) seconds of a bucket."""
    if index <= 0:
        return 0.0, 60.0
    return 60.0 * HIST_RATIO ** (index - 1), 60.0 * HIST_RATIO**index


def bucket_value(index: int) -> float:
    """The value a bucket stands for: its geometric middle (30 s for the first)."""
    if index <= 0:
        return 30.0
    low, high = bucket_bounds(index)
    return math.sqrt(low * high)


def level_of_path(path: str) -> str:
    return LEVEL_BY_DEPTH.get(path.rstrip("/").count("/") + 1, "")


@dataclass(frozen=True)
class DemandRow:
    """What the measures read of one demand: its columns and three facts from its events."""

    created_at: dt.datetime
    state: str
    area_path: str
    accepted_at: dt.datetime | None
    accept_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolve_due_at: dt.datetime | None
    satisfaction: str | None
    highest_level: str
    escalations: int
    dispatched_department_id: int | None
    reopened_ever: bool = False
    returned_ever: bool = False
    auto_escalated_before_accept: bool = False
    rated_at: dt.datetime | None = None
    # The earliest reopen by a resident's unsatisfied rating (the first rating, when there is one).
    first_unsatisfied_at: dt.datetime | None = None
    # The first reached call back (回访) and whether any reached call back found it not solved.
    call_back_at: dt.datetime | None = None
    call_back_satisfaction: str | None = None
    call_back_unsolved: bool = False
    channel: str = ""


def first_answer(row: DemandRow) -> str | None:
    """The satisfaction first heard about a demand: the resident's rating or a call back, whichever came first."""
    # (when, 0 for the rating / 1 for a call back, answer): at the same instant the resident's rating wins.
    answers: list[tuple[dt.datetime, int, str]] = []
    if row.first_unsatisfied_at is not None:
        answers.append((row.first_unsatisfied_at, 0, "unsatisfied"))
    elif row.satisfaction:
        answers.append((row.rated_at or row.resolved_at or row.created_at, 0, row.satisfaction))
    if row.call_back_at is not None and row.call_back_satisfaction:
        answers.append((row.call_back_at, 1, row.call_back_satisfaction))
    return min(answers)[2] if answers else None


def demand_facts(row: DemandRow, now: dt.datetime) -> dict[str, int]:
    """0 or 1 for each counter, and the two times in seconds (0 when not reached)."""
    state = row.state
    is_open = state in OPEN
    waiting_late = state in WAITING and row.accept_due_at is not None and row.accept_due_at < now
    resolve_late = row.resolve_due_at is not None and row.resolve_due_at < now
    accepted = row.accepted_at is not None
    resolved = state in RESOLVED and row.resolved_at is not None
    area_level = level_of_path(row.area_path)
    highest = row.highest_level or area_level
    dispatched = row.dispatched_department_id is not None
    answer = first_answer(row)
    facts = {
        "received": 1,
        "open": int(state in UNFINISHED),
        "overdue": int(is_open and (resolve_late or waiting_late)),
        "accepted": int(accepted),
        "response_due": int(accepted or row.auto_escalated_before_accept or waiting_late),
        "responded_on_time": int(
            accepted
            and not row.auto_escalated_before_accept
            and (row.accept_due_at is None or row.accepted_at <= row.accept_due_at)  # type: ignore[operator]
        ),
        "resolved": int(resolved),
        "ontime_due": int(resolved or (is_open and resolve_late)),
        "resolved_on_time": int(
            resolved and (row.resolve_due_at is None or row.resolved_at <= row.resolve_due_at)  # type: ignore[operator]
        ),
        "resolved_clean": int(resolved and not row.reopened_ever and not row.call_back_unsolved),
        "resolved_ever": int(row.resolved_at is not None),
        "reopened": int(row.reopened_ever),
        "rated": int(answer is not None),
        "satisfied": int(answer in SATISFIED),
        "handed_on": int(row.escalations > 0 or dispatched),
        "returned": int(row.returned_ever),
        "local": int(resolved and highest == area_level and not dispatched),
        "rejected": int(state == "rejected"),
        "merged": int(state == "merged"),
        "closed": int(state == "closed"),
        "climb_department": int(dispatched),
    }
    for level in LEVELS:
        facts[f"climb_{level}"] = int(highest == level)
    facts["accept_seconds"] = _seconds(row.accepted_at, row.created_at) if accepted else 0
    facts["resolve_seconds"] = _seconds(row.resolved_at, row.created_at) if resolved else 0
    return facts


def _seconds(end: dt.datetime | None, start: dt.datetime) -> int:
    return max(0, int((end - start).total_seconds())) if end is not None else 0


class Tally:
    """Counters, time sums and histograms added up over any set of demands (or rollup rows)."""

    __slots__ = ("accept_hist", "counts", "resolve_hist")

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys((*COUNTERS, *SUMS), 0)
        self.accept_hist: dict[str, int] = {}
        self.resolve_hist: dict[str, int] = {}

    def add_facts(self, facts: Mapping[str, int]) -> None:
        counts = self.counts
        for name in COUNTERS:
            counts[name] += facts[name]
        counts["accept_seconds"] += facts["accept_seconds"]
        counts["resolve_seconds"] += facts["resolve_seconds"]
        if facts["accepted"]:
            key = str(bucket(facts["accept_seconds"]))
            self.accept_hist[key] = self.accept_hist.get(key, 0) + 1
        if facts["resolved"]:
            key = str(bucket(facts["resolve_seconds"]))
            self.resolve_hist[key] = self.resolve_hist.get(key, 0) + 1

    def add_row(self, row: Any) -> None:
        """Add a rollup row (a model instance or a dict with the same names)."""
        get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
        counts = self.counts
        for name in (*COUNTERS, *SUMS):
            counts[name] += int(get(name) or 0)
        for name in HISTOGRAMS:
            merge_hist(getattr(self, name), get(name) or {})

    def add(self, other: Tally) -> None:
        for name, value in other.counts.items():
            self.counts[name] += value
        merge_hist(self.accept_hist, other.accept_hist)
        merge_hist(self.resolve_hist, other.resolve_hist)

    def measures(self) -> dict[str, Any]:
        """The measures of docs/glossary.md (rates as fractions, None when nothing to divide) and the counts."""
        return measures_of(self.counts, self.accept_hist, self.resolve_hist)


def merge_hist(into: dict[str, int], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        into[str(key)] = into.get(str(key), 0) + int(value)


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def percentile(hist: Mapping[str, int], fraction: float) -> float | None:
    """Nearest-rank percentile of a histogram, as the value its bucket stands for (seconds)."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for key in sorted(hist, key=int):
        seen += hist[key]
        if seen >= rank:
            return bucket_value(int(key))
    return None  # pragma: no cover - the loop always reaches the rank


def exact_percentile(values: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile of raw values (what the histogram approximates)."""
    items = sorted(values)
    if not items:
        return None
    rank = max(1, math.ceil(fraction * len(items)))
    return items[rank - 1]


# (name, numerator, denominator) of each rate: the one table the pages, reports and tests read.
RATES: tuple[tuple[str, str, str], ...] = (
    ("response_rate", "responded_on_time", "response_due"),
    ("ontime_rate", "resolved_on_time", "ontime_due"),
    ("resolution_rate", "resolved_clean", "resolved"),
    ("satisfaction_rate", "satisfied", "rated"),
    ("reopen_rate", "reopened", "resolved_ever"),
    ("return_rate", "returned", "handed_on"),
    ("local_rate", "local", "resolved"),
)
# Higher is better for these; lower for reopen and return (the ranking and the arrows use this).
HIGHER_IS_BETTER = {
    "response_rate": True,
    "ontime_rate": True,
    "resolution_rate": True,
    "satisfaction_rate": True,
    "reopen_rate": False,
    "return_rate": False,
    "local_rate": True,
}
# The monthly ranking's score: the three rates Beijing's 接诉即办 ranks streets and towns on.
RANKING_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def measures_of(
    counts: Mapping[str, int], accept_hist: Mapping[str, int], resolve_hist: Mapping[str, int]
) -> dict[str, Any]:
    result: dict[str, Any] = dict(counts)
    for name, numerator, denominator in RATES:
        result[name] = ratio(counts[numerator], counts[denominator])
    result["accept_mean"] = counts["accept_seconds"] / counts["accepted"] if counts["accepted"] else None
    result["resolve_mean"] = counts["resolve_seconds"] / counts["resolved"] if counts["resolved"] else None
    result["accept_median"] = percentile(accept_hist, 0.5)
    result["accept_p90"] = percentile(accept_hist, 0.9)
    result["resolve_median"] = percentile(resolve_hist, 0.5)
    result["resolve_p90"] = percentile(resolve_hist, 0.9)
    return result


def ranking_score(measures: Mapping[str, Any]) -> float | None:
    """Mean of the ranking rates that have a denominator (None when none has)."""
    values = [measures[name] for name in RANKING_RATES if measures.get(name) is not None]
    return sum(values) / len(values) if values else None
