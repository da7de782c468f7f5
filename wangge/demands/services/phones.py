"""The reporter's phone unmasked (反映人电话): to whom, and the audit row every unmasked view writes.

Pages show a masked phone (138****1111). The staff who must call the resident back (those who may
accept, resolve or call back now) see it whole, and each time they do, one row is written to the
personal-data log through `settings.WANGGE_PII_LOG` (dashboards owns the table; demands never imports
it). With no recorder configured the phone stays masked: an unrecorded unmasked view is the fault.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import transaction

from wangge.core.hooks import setting_callable
from wangge.demands.models import Demand

# The moves whose staff call the reporter back: they see the phone whole.
PHONE_MOVES = frozenset({"accept", "resolve", "call_back"})


@transaction.atomic
def demand_reporter_phone_reveal(*, demand: Demand, user: Any, can: Collection[str], where: str) -> str:
    """The reporter's phone whole for a user who may call them back (`can`: their moves now), else "".

    Every unmasked view is recorded here, the one place (`where` names the page, for the log).
    """
    if not demand.reporter_phone or not PHONE_MOVES & set(can):
        return ""
    record = setting_callable("WANGGE_PII_LOG")
    if record is None:
        return ""
    record(
        user=user,
        what=f"查看诉求 {demand.code} 反映人电话（{where}）",
        why="承办人联系反映人 / holder calls the reporter back",
        demand=demand,
    )
    return demand.reporter_phone
