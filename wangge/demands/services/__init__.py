"""The only writers of demands, one module per kind of change:

- `intake`: `demand_submit` (every channel) and its `SubmitResult`;
- `moves`: the holder's moves and the machinery every move shares (`_apply`, `_require_holder`);
- `merge`: a duplicate joins an earlier demand, its reporter and followers with it;
- `residents`: follow, rate, add information, comment;
- `category`: setting the category and the triage suggestion behind it;
- `automatic`: the worker's moves (auto-escalate, warn, close by silence);
- `notify`: who is told and the outbox rows that tell them (resident messages carry a short link);
  `demand_tell_reporter` sends a reporter what another app wrote (a governance topic's notice);
- `callbacks`: calling back (回访) the reporter of a resolved demand by phone;
- `lookup`: "find my demand", one-time SMS codes that lead a resident back to the tracking page;
- `attachments`: photos that arrive later from outside a move (a WeChat photo the worker fetched);
- `publishing`: what the public reads of a demand (公开审核: approve a text, or publish nothing);
- `requests`: 延期 (extension) and 挂起 (suspension): the holder's requests, the level above's decisions,
  resuming a suspended demand (by hand or by the worker);
- `urging`: 督办/催办, a level above the holder urges it (the holder's staff are pushed a message);
- `assists`: 协办, assisting departments with their own tasks and replies;
- `verification`: verification before closing (核查): confirm on site, send back, the worker's reminder;
- `phones`: the reporter's phone unmasked for who calls back, each view written to the personal-data log.

Who may see or hold a demand is `wangge.demands.permissions`. Import the public names from here
(`from wangge.demands import services; services.demand_accept(...)`).
"""

from wangge.demands.services._common import MAX_TEXT, MAX_TITLE
from wangge.demands.services.assists import demand_assist_add, demand_assist_reply
from wangge.demands.services.attachments import demand_photos_attach
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
    demand_may,
    demand_reassign,
    demand_reject,
    demand_resolve,
    demand_return,
)
from wangge.demands.services.notify import demand_tell_reporter
from wangge.demands.services.phones import demand_reporter_phone_reveal
from wangge.demands.services.publishing import demand_publish_approve, demand_publish_withdraw
from wangge.demands.services.requests import (
    demand_extension_decide,
    demand_extension_request,
    demand_resume,
    demand_suspension_decide,
    demand_suspension_request,
)
from wangge.demands.services.residents import (
    demand_add_info,
    demand_comment,
    demand_follow,
    demand_follower_comment,
    demand_rate,
)
from wangge.demands.services.urging import demand_urge
from wangge.demands.services.verification import demand_verify, demand_verify_back, demand_verify_remind

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "LookupOutcome",
    "SubmitResult",
    "demand_accept",
    "demand_add_info",
    "demand_assist_add",
    "demand_assist_reply",
    "demand_auto_escalate",
    "demand_call_back",
    "demand_can",
    "demand_category_feedback",
    "demand_close_silent",
    "demand_comment",
    "demand_dispatch",
    "demand_escalate",
    "demand_extension_decide",
    "demand_extension_request",
    "demand_follow",
    "demand_follower_comment",
    "demand_may",
    "demand_merge",
    "demand_photos_attach",
    "demand_publish_approve",
    "demand_publish_withdraw",
    "demand_rate",
    "demand_reassign",
    "demand_reject",
    "demand_reporter_phone_reveal",
    "demand_resolve",
    "demand_resume",
    "demand_return",
    "demand_set_category",
    "demand_submit",
    "demand_suspension_decide",
    "demand_suspension_request",
    "demand_tell_reporter",
    "demand_urge",
    "demand_verify",
    "demand_verify_back",
    "demand_verify_remind",
    "demand_warn",
    "lookup_code_send",
    "lookup_code_verify",
]
