"""The 12345 round trip's way back: how each hotline order stands, in the hotline's own columns.

A 12345 centre dispatches orders to the county (imported by `demands.hotline` with the ticket number as
the idempotency key, `hotline:<工单编号>`), and its own system wants back, per ticket, the state, the
handling unit, the result and its times (工单办理情况回传). `hotline_results_rows` reads the orders the
person may see (`selectors.demand_list`) filed in a period; `hotline_results_workbook` writes them to
xlsx with every text cell as text (`core.spreadsheets`), for the page and `manage.py export_hotline_results`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.core.spreadsheets import text_row
from wangge.demands import selectors
from wangge.demands.models import Channel, Demand, Satisfaction, State

TICKET_PREFIX = "hotline:"
# The columns of a 12345 system's return sheet (回传), in its order.
COLUMNS = (
    "工单编号",
    "平台编号",
    "办理状态",
    "承办单位",
    "办理结果",
    "来电时间",
    "办结时间",
    "办理时限",
    "是否超期",
    "是否解决",
    "满意度",
)
FINISHED = (State.RESOLVED, State.CLOSED)
# At most this many days in one sheet: a month of a county's orders is a few thousand rows.
MAX_DAYS = 93


def _local(value: dt.datetime | None) -> str:
    return clock.to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _late(demand: Demand, now: dt.datetime) -> bool:
    if demand.case_due_at is None:
        return False
    finished_at = demand.resolved_at if demand.state in FINISHED else None
    return (finished_at or now) > demand.case_due_at


def _period(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if until < since:
        raise ValidationFailed(_("the end date is before the start date"), field="until")
    if (until - since).days >= MAX_DAYS:
        raise ValidationFailed(
            _("at most %(days)s days can be exported at once"), params={"days": MAX_DAYS}, field="until"
        )
    tz = clock.local_tz()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def hotline_orders(*, user: Any, since: dt.date, until: dt.date) -> Any:
    """The hotline orders `user` may see whose call came in from `since` to `until` (local days, inclusive)."""
    start, end = _period(since, until)
    return (
        selectors.demand_list(user=user)
        .filter(channel=Channel.HOTLINE, idempotency_key__startswith=TICKET_PREFIX)
        .filter(reported_at__gte=start, reported_at__lt=end)
        .select_related("holder_area", "holder_department")
        .order_by("reported_at", "id")
    )


def hotline_results_rows(*, user: Any, since: dt.date, until: dt.date) -> Iterator[list[Any]]:
    """One row per order, in `COLUMNS` order (Chinese labels: the 12345 system reads Chinese)."""
    now = clock.now()
    satisfaction = {
        Satisfaction.SATISFIED: "满意",
        Satisfaction.BASIC: "基本满意",
        Satisfaction.UNSATISFIED: "不满意",
    }
    with translation.override("zh-hans"):
        for d in hotline_orders(user=user, since=since, until=until).iterator(chunk_size=2000):
            yield [
                (d.idempotency_key or "")[len(TICKET_PREFIX) :],
                d.code,
                str(d.get_state_display()),
                d.holder_label,
                d.resolution if d.state in FINISHED else "",
                _local(d.reported_at),
                _local(d.resolved_at) if d.state in FINISHED else "",
                _local(d.case_due_at),
                "是" if _late(d, now) else "否",
                "" if d.rated_solved is None else ("是" if d.rated_solved else "否"),
                satisfaction.get(d.satisfaction, ""),
            ]


def hotline_results_workbook(*, user: Any, since: dt.date, until: dt.date) -> tuple[bytes, int]:
    """The xlsx file and its number of orders."""
    _period(since, until)  # refuse a period before a workbook is begun
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单办理情况")
    ws.append(text_row(ws, COLUMNS))
    count = 0
    for row in hotline_results_rows(user=user, since=since, until=until):
        ws.append(text_row(ws, row))
        count += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), count
