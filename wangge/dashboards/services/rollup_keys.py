"""The keys of the rollup rows: which levels and cuts exist, which facts column names each owner,
and the columns of a rollup row. Shared by the regroup (`rollups`) and the deltas (`rollup_deltas`)."""

from __future__ import annotations

import datetime as dt

from wangge.dashboards.models import COUNTERS, FACTS_LEVELS, LEVEL_COLUMNS, SUMS, Cut, RollupLevel

# Levels whose rollups are also cut by category (a village's, branch's or grid's demands are few
# enough to read live; cutting them by 40 categories would multiply the rows for little gain).
CATEGORY_LEVELS = frozenset({"city", "town", "department"})
# Levels that keep visit and opinion counts (the public page and the reports read these).
ACTIVITY_LEVELS = ("city", "town", "village")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

OWNER_COLUMNS = (*LEVEL_COLUMNS.values(), "department_id")
# (level, owner column, cut) of every rollup row kind.
GROUPS: tuple[tuple[str, str, str], ...] = tuple(
    (level, column, cut)
    for level, column in (*LEVEL_COLUMNS.items(), (RollupLevel.DEPARTMENT.value, "department_id"))
    for cut in (Cut.TOTAL, Cut.CATEGORY, Cut.CHANNEL)
    if level not in FACTS_LEVELS and (cut == Cut.TOTAL or level in CATEGORY_LEVELS)
)
ROLLUP_COLUMNS = (
    "day",
    "level",
    "area_id",
    "area_path",
    "department_id",
    "cut",
    "category_id",
    "channel",
    "key",
    *COUNTERS,
    *SUMS,
    "accept_hist",
    "resolve_hist",
    "refreshed_at",
)
