"""Reads of the dashboards, every one inside the acting user's scope.

Figures come from the rollups for past days and are computed live over today's demands (today's
are few, and the rollup of today is at most one worker pass old), with the one definition in
`measures.py`. Whose figures: an area the user's scope covers (the city for city-wide roles), or
a department the user belongs to (city-wide roles see every department of their city).

The package's modules: `subjects` (whose figures, which period), `tallies` (measures and
tallies), `ranking` (红黑榜 and the map), `public` (政务公开), `console` (the staff queue and
exports). Callers import the package: every public name is re-exported here.
"""

from wangge.dashboards.selectors.console import (
    CONSOLE_VIEWS,
    below_q,
    console_areas,
    console_departments,
    console_list,
    console_view,
    export_get,
    export_jobs,
    held_q,
    level_of,
)
from wangge.dashboards.selectors.public import (
    public_months,
)
from wangge.dashboards.selectors.ranking import (
    BOARD_SIZE,
    board_ends,
    map_areas,
    map_features,
    ranking,
)
from wangge.dashboards.selectors.subjects import (
    Period,
    Subject,
    breadcrumb,
    departments_for,
    month_period,
    period_from,
    subject_for,
)
from wangge.dashboards.selectors.tallies import (
    FIELDS,
    area_tallies,
    categories,
    channels,
    children,
    climb,
    daily,
    fact_rows,
    figures,
    one_reading,
    path_depth,
    prefix_at,
    rollup_state,
    weekly,
)

__all__ = [
    "BOARD_SIZE",
    "CONSOLE_VIEWS",
    "FIELDS",
    "Period",
    "Subject",
    "area_tallies",
    "below_q",
    "board_ends",
    "breadcrumb",
    "categories",
    "channels",
    "children",
    "climb",
    "console_areas",
    "console_departments",
    "console_list",
    "console_view",
    "daily",
    "departments_for",
    "export_get",
    "export_jobs",
    "fact_rows",
    "figures",
    "held_q",
    "level_of",
    "map_areas",
    "map_features",
    "month_period",
    "one_reading",
    "path_depth",
    "period_from",
    "prefix_at",
    "public_months",
    "ranking",
    "rollup_state",
    "subject_for",
    "weekly",
]
