"""The measures of docs/measures.md, computed one demand at a time (their meaning is `definitions.MEASURES`).

Every figure is about the demands RECEIVED in a period (by local day of `created_at`), in an area
(the demand's own area and everything above it) or sent to a department, as they stand now. Each
demand contributes 0 or 1 to each counter (and its urges and working seconds to the sums); a
measure is one counter divided by another, so sums over days, areas and categories stay exact and
the rollups can be added up freely. `demand_facts` is the one place the counters are decided;
docs/measures.md (written from `definitions.MEASURES`) says what each one counts. The rollups'
facts are the same conditions written as SQL (services/fact_sql.py, set-based for millions of
demands); dashboards/tests/test_fact_sql.py checks the two give the same row for every demand,
so a change here is made there too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# RATES and HIGHER_IS_BETTER are `definitions.MEASURES` read as tables (re-exported for the pages and reports).
from wangge.dashboards.definitions import HIGHER_IS_BETTER as HIGHER_IS_BETTER
from wangge.dashboards.definitions import RATES as RATES
from wangge.dashboards.models import COUNTERS, HISTOGRAMS, SUMS
from wangge.holidays.workdays import working_hours_between

# The clock of the holder runs: someone must accept or resolve (the sweep's OPEN_STATES).
OPEN = frozenset({"submitted", "in_progress", "escalated", "reopened"})
WAITING = frozenset({"submitted", "escalated", "reopened"})
# Not finished but no clock runs: suspended (挂起) or waiting for the verifier (核查).
PAUSED = frozenset({"suspended", "verifying"})
UNFINISHED = OPEN | PAUSED
RESOLVED = frozenset({"resolved", "closed"})
# 办结: the holder has answered (resolved), also when a verifier still has to confirm it.
ANSWERED = RESOLVED | {"verifying"}
NOT_HANDLED = frozenset({"rejected", "merged"})
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
    """What the measures read of one demand: its columns and a few facts from its events and call backs."""

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
    # The first reached call back (回访) that gave a satisfaction, and that answer.
    call_back_at: dt.datetime | None = None
    call_back_satisfaction: str | None = None
    channel: str = ""
    # The case deadline (总办结时限): set at intake, moved only by approved extensions and suspensions.
    case_due_at: dt.datetime | None = None
    extensions: int = 0
    urges: int = 0
    # The resident's "is it solved?" given with the first rating (None: not asked or not answered).
    rated_solved: bool | None = None
    # The first reached call back that answered "is it solved?", and that answer.
    call_back_solved_at: dt.datetime | None = None
    call_back_solved: bool | None = None
    # Sent back to the holder by the verifier (核查不通过) at least once: rework like a reopen.
    sent_back_ever: bool = False
    # The demand's id (what the rollups' facts are keyed by; no measure reads it).
    demand_id: int = 0


def _first_rating_at(row: DemandRow) -> dt.datetime:
    """When the resident first rated: the earliest unsatisfied reopen, else the rating on the row."""
    return row.first_unsatisfied_at or row.rated_at or row.resolved_at or row.created_at


def first_answer(row: DemandRow) -> str | None:
    """The satisfaction first heard about a demand: the resident's rating or a call back, whichever came first."""
    # (when, 0 for the rating / 1 for a call back, answer): at the same instant the resident's rating wins.
    answers: list[tuple[dt.datetime, int, str]] = []
    if row.first_unsatisfied_at is not None:
        answers.append((row.first_unsatisfied_at, 0, "unsatisfied"))
    elif row.satisfaction:
        answers.append((_first_rating_at(row), 0, row.satisfaction))
    if row.call_back_at is not None and row.call_back_satisfaction:
        answers.append((row.call_back_at, 1, row.call_back_satisfaction))
    return min(answers)[2] if answers else None


def first_solved_answer(row: DemandRow) -> bool | None:
    """The first answer to "is it solved?": the resident's, with the first rating, or a reached call back's."""
    answers: list[tuple[dt.datetime, int, bool]] = []
    if row.rated_solved is not None:
        answers.append((_first_rating_at(row), 0, row.rated_solved))
    if row.call_back_solved_at is not None and row.call_back_solved is not None:
        answers.append((row.call_back_solved_at, 1, row.call_back_solved))
    return min(answers)[2] if answers else None


def working_seconds(start: dt.datetime, end: dt.datetime | None) -> int:
    """Seconds of working time (opening hours of working days) from `start` to `end` (0 when not reached)."""
    if end is None:
        return 0
    return round(working_hours_between(start, end) * 3600)


def demand_facts(row: DemandRow, now: dt.datetime) -> dict[str, int]:
    """0 or 1 for each counter, the demand's urges, and the two working times in seconds (0 when not reached)."""
    state = row.state
    is_open = state in OPEN
    waiting_late = state in WAITING and row.accept_due_at is not None and row.accept_due_at < now
    resolve_late = row.resolve_due_at is not None and row.resolve_due_at < now
    case_due = row.case_due_at or row.resolve_due_at
    accepted = row.accepted_at is not None
    resolved = state in RESOLVED and row.resolved_at is not None
    answered = state in ANSWERED and row.resolved_at is not None
    handled = state not in NOT_HANDLED
    area_level = level_of_path(row.area_path)
    highest = row.highest_level or area_level
    dispatched = row.dispatched_department_id is not None
    answer = first_answer(row)
    solved_answer = first_solved_answer(row)
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
        "answered": int(answered),
        # A suspended demand is not late while suspended; one awaiting verification was answered in time or not.
        "ontime_due": int(answered or (is_open and case_due is not None and case_due < now)),
        "resolved_on_time": int(answered and (case_due is None or row.resolved_at <= case_due)),  # type: ignore[operator]
        "asked_solved": int(solved_answer is not None),
        "solved": int(solved_answer is True),
        "resolved_ever": int(row.resolved_at is not None),
        "reworked": int(row.reopened_ever or row.sent_back_ever),
        "rated": int(answer is not None),
        "satisfied": int(answer in SATISFIED),
        "handed_on": int(row.escalations > 0 or dispatched),
        "returned": int(row.returned_ever),
        "local": int(resolved and highest == area_level and not dispatched),
        "handled": int(handled),
        "extended": int(handled and row.extensions > 0),
        "rejected": int(state == "rejected"),
        "merged": int(state == "merged"),
        "closed": int(state == "closed"),
        "climb_department": int(dispatched),
    }
    for level in LEVELS:
        facts[f"climb_{level}"] = int(highest == level)
    facts["urges"] = row.urges
    facts["accept_seconds"] = working_seconds(row.created_at, row.accepted_at)
    facts["resolve_seconds"] = working_seconds(row.created_at, row.resolved_at) if answered else 0
    return facts


class Tally:
    """Counters, time sums and histograms added up over any set of demands (or rollup rows)."""

    __slots__ = ("accept_hist", "counts", "resolve_hist")

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys((*COUNTERS, *SUMS), 0)
        self.accept_hist: dict[str, int] = {}
        self.resolve_hist: dict[str, int] = {}

    def add_facts(self, facts: Mapping[str, int]) -> None:
        counts = self.counts
        for name in (*COUNTERS, *SUMS):
            counts[name] += facts[name]
        if facts["accepted"]:
            key = str(bucket(facts["accept_seconds"]))
            self.accept_hist[key] = self.accept_hist.get(key, 0) + 1
        if facts["answered"]:
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
        """The measures of docs/measures.md (rates as fractions, None when nothing to divide) and the counts."""
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


# The monthly ranking's score: the three rates Beijing's 接诉即办 ranks streets and towns on.
RANKING_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def measures_of(
    counts: Mapping[str, int], accept_hist: Mapping[str, int], resolve_hist: Mapping[str, int]
) -> dict[str, Any]:
    result: dict[str, Any] = dict(counts)
    for name, numerator, denominator in RATES:
        result[name] = ratio(counts[numerator], counts[denominator])
    result["accept_mean"] = counts["accept_seconds"] / counts["accepted"] if counts["accepted"] else None
    result["resolve_mean"] = counts["resolve_seconds"] / counts["answered"] if counts["answered"] else None
    result["accept_median"] = percentile(accept_hist, 0.5)
    result["accept_p90"] = percentile(accept_hist, 0.9)
    result["resolve_median"] = percentile(resolve_hist, 0.5)
    result["resolve_p90"] = percentile(resolve_hist, 0.9)
    return result


def ranking_score(measures: Mapping[str, Any]) -> float | None:
    """Mean of the ranking rates that have a denominator (None when none has)."""
    values = [measures[name] for name in RANKING_RATES if measures.get(name) is not None]
    return sum(values) / len(values) if values else None
