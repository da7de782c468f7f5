"""The only writers of demands, one module per kind of change:

- `intake`: `demand_submit` (every channel) and its `SubmitResult`;
- `moves`: the holder's moves and the machinery every move shares (`_apply`, `_require_holder`);
- `merge`: a duplicate joins an earlier demand, its reporter and followers with it;
- `residents`: follow, rate, add information, comment;
- `category`: setting the category and the triage suggestion behind it;
- `automatic`: the worker's moves (auto-escalate, warn, close by silence);
- `notify`: who is told and the outbox rows that tell them (resident messages carry a short link);
- `callbacks`: calling back (回访) the reporter of a resolved demand by phone;
- `lookup`: "find my demand", one-time SMS codes that lead a resident back to the tracking page;
- `phones`: the reporter's phone unmasked for who calls back, each view written to the personal-data log.

Who may see or hold a demand is `wangge.demands.permissions`. Import the public names from here
(`from wangge.demands import services; services.demand_accept(...)`).
"""

from wangge.demands.services._common import MAX_TEXT, MAX_TITLE
from wangge.demands.services.automatic import demand_auto_escalate, demand_close_silent, demand_warn
from wangge.demands.services.callbacks import demand_call_back
from wangge.demands.services.category import demand_category_feedback, demand_set_category
from wangge.demands.services.intake import SubmitResult, demand_submit
from wangge.demands.services.lookup import LookupOutcome, lookup_code_send, lookup_code_verify
from wangge.demands.services.merge import demand_merge
from wangge.demands.services.moves import (
    demand_accept,
    demand_can,
    demand_dispatch,
    demand_escalate,
    demand_reassign,
    demand_reject,
    demand_resolve,
    demand_return,
)
from wangge.demands.services.phones import demand_reporter_phone_reveal
from wangge.demands.services.residents import (
    demand_add_info,
    demand_comment,
    demand_follow,
    demand_follower_comment,
    demand_rate,
)

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "LookupOutcome",
    "SubmitResult",
    "demand_accept",
    "demand_add_info",
    "demand_auto_escalate",
    "demand_call_back",
    "demand_can",
    "demand_category_feedback",
    "demand_close_silent",
    "demand_comment",
    "demand_dispatch",
    "demand_escalate",
    "demand_follow",
    "demand_follower_comment",
    "demand_merge",
    "demand_rate",
    "demand_reassign",
    "demand_reject",
    "demand_reporter_phone_reveal",
    "demand_resolve",
    "demand_return",
    "demand_set_category",
    "demand_submit",
    "demand_warn",
    "lookup_code_send",
    "lookup_code_verify",
]
