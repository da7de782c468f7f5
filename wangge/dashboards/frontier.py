"""Which event (and visit) ids the worker's refresh has read: the highest, and the ids below it not seen yet.

The refresh learns what changed from new rows of an append-only table, by a primary-key range. An id
is handed out when its row is inserted, not when its transaction commits, so a refresh can see id 102
committed while 101 is still in flight; 101 must be read once it commits. Before, each refresh re-read
a fixed margin of ids below the last one (DASHBOARD_ROLLUP_ID_MARGIN, 1,000) and re-derived the facts of
every demand they named: at a steady intake most of a pass's work was that margin, read again and found
unchanged, and a transaction that held its id while more than 1,000 others committed was still missed.

Here a refresh remembers the ids below the highest it read that it did not see (in flight then, or
rolled back: a gap), as ranges with the time they were first missed, and the next refresh reads the
ids above the highest plus those ranges. A range is kept until every id in it was seen or until
DASHBOARD_ROLLUP_PENDING_SECONDS (an hour) has passed since it was first missed: a transaction that
commits later than that after taking its id is not caught (a rolled-back id never comes, so the range
must end some time). Reading an id twice is harmless (a refresh is idempotent), so when more than
MAX_RANGES are kept, neighbours are joined into one range that covers the ids between them too.

State: `RollupState.pending` ({"events": {"top": id, "ranges": [[lo, hi, first missed, epoch seconds],
…]}, "visits": …}). A state whose top is not the one its ranges were kept for (written before this
existed, or by a full build) has its first refresh read the old margin below the top once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q

from wangge.dashboards.measures import OPEN, WAITING

# The most ranges kept per table (neighbours are joined past this: over-reading, never missing).
MAX_RANGES = 200


@dataclass
class Frontier:
    """Every id ≤ `top` was read, but those of `pending` ([lo, hi, first missed at, epoch seconds])."""

    top: int
    pending: list[list[int]] = field(default_factory=list)

    def q(self) -> Q:
        """The rows to read: above the top, and in the pending ranges."""
        where = Q(pk__gt=self.top)
        for lo, hi, _at in self.pending:
            where |= Q(pk__gte=lo, pk__lte=hi)
        return where

    def to_json(self) -> dict[str, Any]:
        return {"top": self.top, "ranges": [list(r) for r in self.pending]}


def pending_seconds() -> int:
    return int(getattr(settings, "DASHBOARD_ROLLUP_PENDING_SECONDS", 3600))


def frontier_of(state_pending: dict[str, Any] | None, name: str, top: int) -> Frontier:
    """The frontier of table `name` kept in the state, whose highest id read is `top`.

    When the ranges kept are not those of `top` (a state from before the ranges, or a full build that
    set the top without them), the ids in flight then are not known: the first refresh reads the
    margin below the top once (DASHBOARD_ROLLUP_ID_MARGIN), as every refresh did before.
    """
    entry = (state_pending or {}).get(name)
    if not isinstance(entry, dict) or entry.get("top") != top:
        margin = int(getattr(settings, "DASHBOARD_ROLLUP_ID_MARGIN", 1000))
        return Frontier(top=max(0, top - margin))
    return Frontier(top=top, pending=[[int(lo), int(hi), int(at)] for lo, hi, at in entry.get("ranges", [])])


def advance(frontier: Frontier, seen: Iterable[int], now: dt.datetime) -> Frontier:
    """The frontier after reading `frontier.q()` and finding the ids `seen`.

    The new top is the highest id seen; the ids between the old top and it that were not seen, and the
    pending ids still not seen, stay pending (those first missed longer ago than the keep time go).
    """
    ids = sorted(set(seen))
    stamp = int(now.timestamp())
    oldest = stamp - pending_seconds()
    top = max(frontier.top, ids[-1]) if ids else frontier.top
    spans = [(lo, hi, at) for lo, hi, at in frontier.pending if at >= oldest]
    if top > frontier.top:
        spans.append((frontier.top + 1, top, stamp))
    pending: list[list[int]] = []
    for lo, hi, at in sorted(spans):
        pending.extend([a, b, at] for a, b in _missing(lo, hi, ids))
    return Frontier(top=top, pending=_cap(pending))


def _missing(lo: int, hi: int, ids: list[int]) -> list[tuple[int, int]]:
    """The ranges of lo..hi not in the sorted `ids`."""
    import bisect

    out: list[tuple[int, int]] = []
    at = lo
    for i in ids[bisect.bisect_left(ids, lo) : bisect.bisect_right(ids, hi)]:
        if i > at:
            out.append((at, i - 1))
        at = i + 1
    if at <= hi:
        out.append((at, hi))
    return out


def _cap(pending: list[list[int]]) -> list[list[int]]:
    """At most MAX_RANGES ranges: join neighbours pairwise (the joined range is kept as long as the newer was)."""
    while len(pending) > MAX_RANGES:
        joined = []
        for i in range(0, len(pending), 2):
            pair = pending[i : i + 2]
            joined.append([pair[0][0], pair[-1][1], max(r[2] for r in pair)])
        pending = joined
    return pending


def limits_passed_q(since: dt.datetime, now: dt.datetime) -> Q:
    """Demands that time alone changed between `since` and `now`: a limit passed (overdue, late for its
    accept or case deadline), with no event written. The refresh reads them from when the last one began
    (its facts were computed after that); today's live figures recompute the same ones. One condition, so
    that the partitioned table is planned once (the partial indexes over open demands serve each part)."""
    passed = Q()
    for states, due in ((WAITING, "accept_due_at"), (OPEN, "resolve_due_at"), (OPEN, "case_due_at")):
        passed |= Q(state__in=states, **{f"{due}__gte": since, f"{due}__lt": now})
    return passed
