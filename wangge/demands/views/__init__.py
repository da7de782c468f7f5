"""Pages of demands: the resident's report and tracking pages (no account) and the staff pages.

Views read through `selectors` (scoped by the acting user, or by the private tracking token) and
write through `services`; they only translate between forms and those calls. Errors raised by a
service are shown next to the field they name; a lost race shows the conflict and the fresh
state; a move by someone who does not hold the demand answers 403 with the bilingual message.

The package's modules: `resident` (report, lookup, short links, follow, places), `track` (the
resident's tracking page), `staff` (list, detail, moves, intake), `files` (photos and QR codes),
`publishing` (the moderation queue, 公开审核), `requests` (延期 and 挂起: requests, decisions, resuming,
the decider's queue), `cohandling` (督办 and 协办 posts, the 协办任务 list), `verification` (the verifier's
queue, 待核查), `_common` (what they share). urls.py names the views through this package: every public
name is re-exported here.
"""

from wangge.demands.views._common import (
    SHEET_LEVELS,
    attach_error,
)
from wangge.demands.views.cohandling import (
    assist_tasks,
    demand_assist_add,
    demand_assist_reply,
    demand_urge,
)
from wangge.demands.views.files import (
    grid_qr,
    grid_qr_sheet,
    photo,
)
from wangge.demands.views.hotline import hotline_job, hotline_results
from wangge.demands.views.publishing import publishing
from wangge.demands.views.requests import (
    demand_request,
    request_decide,
    requests_to_decide,
)
from wangge.demands.views.resident import (
    REPORT_LIMITS,
    REPORT_PREFILL,
    follow_track,
    lookup,
    places,
    report,
    short_link,
)
from wangge.demands.views.staff import (
    MOVE_ORDER,
    PAGE_SIZE,
    SERVICES,
    category_suggestion,
    demand_detail,
    demand_index,
    demand_move,
    demand_new,
    demand_set_category,
)
from wangge.demands.views.track import (
    track,
    track_photo,
)

__all__ = [
    "MOVE_ORDER",
    "PAGE_SIZE",
    "REPORT_LIMITS",
    "REPORT_PREFILL",
    "SERVICES",
    "SHEET_LEVELS",
    "assist_tasks",
    "attach_error",
    "category_suggestion",
    "demand_assist_add",
    "demand_assist_reply",
    "demand_detail",
    "demand_index",
    "demand_move",
    "demand_new",
    "demand_request",
    "demand_set_category",
    "demand_urge",
    "follow_track",
    "grid_qr",
    "grid_qr_sheet",
    "hotline_job",
    "hotline_results",
    "lookup",
    "photo",
    "places",
    "publishing",
    "report",
    "request_decide",
    "requests_to_decide",
    "short_link",
    "track",
    "track_photo",
]

from wangge.demands.views.verification import verify_queue_page

__all__ += ["verify_queue_page"]
