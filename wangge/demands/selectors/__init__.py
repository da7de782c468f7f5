"""Reads of demands, every one filtered by the acting user's scope (or by the resident's token).

Who sees what is `wangge.demands.permissions` (`visible_q`, `held_q`); a resident sees one demand
through its private token. The package's modules: `filters` (DemandFilter: the filters of the list
page, the console, the export and the API), `reads` (the list, one demand, the queues, the timeline,
categories, followers), `paging` (keyset pages and the capped count of long lists), `triage` (what the
triage callables say: duplicates, the category and the department suggestions). Every public name is re-exported here.
"""

from wangge.demands.models import State
from wangge.demands.permissions import held_q, offerable_q, visible_q
from wangge.demands.selectors.filters import MAX_DUE_WITHIN_HOURS, DemandFilter, escalated_q, is_phone, late_q
from wangge.demands.selectors.paging import (
    COUNT_CAP,
    CappedCount,
    KeysetPage,
    capped_count,
    keyset_page,
)
from wangge.demands.selectors.reads import (
    UNFINISHED_SQL,
    category_choices,
    category_tree,
    demand_by_token,
    demand_for_follower,
    demand_get,
    demand_list,
    demand_page,
    demand_timeline,
    follower_after_merge,
    follower_by_token,
    my_queue,
    tracking_path_by_short_code,
    unfinished,
)
from wangge.demands.selectors.triage import (
    CategorySuggestion,
    DepartmentSuggestion,
    DuplicateOffer,
    category_confirmed,
    demand_duplicates,
    demand_suggestion,
    department_suggestion,
    intake_duplicates,
    nearest_first,
    text_suggestion,
)

__all__ = [
    "COUNT_CAP",
    "MAX_DUE_WITHIN_HOURS",
    "UNFINISHED_SQL",
    "CappedCount",
    "CategorySuggestion",
    "DemandFilter",
    "DepartmentSuggestion",
    "DuplicateOffer",
    "KeysetPage",
    "State",
    "capped_count",
    "category_choices",
    "category_confirmed",
    "category_tree",
    "demand_by_token",
    "demand_duplicates",
    "demand_for_follower",
    "demand_get",
    "demand_list",
    "demand_page",
    "demand_suggestion",
    "demand_timeline",
    "department_suggestion",
    "escalated_q",
    "follower_after_merge",
    "follower_by_token",
    "held_q",
    "intake_duplicates",
    "is_phone",
    "keyset_page",
    "late_q",
    "my_queue",
    "nearest_first",
    "offerable_q",
    "text_suggestion",
    "tracking_path_by_short_code",
    "unfinished",
    "visible_q",
]
