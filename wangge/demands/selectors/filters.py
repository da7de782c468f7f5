"""The demand filters: one definition for the list page, the console, the export and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.core.phones import normalise_phone
from wangge.demands.models import (
    CALL_BACK_CHANNELS,
    OPEN_STATES,
    WAITING_STATES,
    CallBack,
    Category,
    Channel,
    Demand,
    State,
    Urgency,
)
from wangge.registry.models import Area
from wangge.registry.selectors import area_get


def is_phone(text: str) -> bool:
    """Whether a search text is a phone number (searched exactly, never by part)."""
    digits = normalise_phone(text)
    return digits.isdigit() and 7 <= len(digits) <= 12


_TRUE, _FALSE = {"1", "true", "on", "yes"}, {"0", "false", "off", "no"}
MAX_DUE_WITHIN_HOURS = 72


def late_q(at: dt.datetime) -> Q:
    """Open demands late at `at`: past the limit to resolve, or still waiting past the limit to accept."""
    return Q(state__in=OPEN_STATES) & (Q(resolve_due_at__lt=at) | Q(state__in=WAITING_STATES, accept_due_at__lt=at))


def escalated_q() -> Q:
    """Demands held at the level they climbed to by escalation (a return down or a dispatch is not)."""
    return Q(escalations__gt=0, holder_department__isnull=True, holder_level=F("highest_level"))


@dataclass(frozen=True)
class DemandFilter:
    """The filters of every demand list, read from the same query parameters wherever they come from.

    The staff list page, the service-centre console, the Excel export (its saved parameters) and
    `GET /api/v1/demands` all build one with `from_params`, so a parameter means the same thing
    everywhere. `strict` (the API) answers malformed input with an error naming the parameter and
    keeps an unknown state or category as asked (it matches nothing); pages drop what they cannot
    read, so an old link still opens the list.
    """

    PARAMS: ClassVar[tuple[str, ...]] = (
        "state",
        "category",
        "urgency",
        "overdue",
        "waiting",
        "due_within",
        "escalated",
        "area",
        "channel",
        "date_from",
        "date_to",
        "q",
        "call_back",
    )

    state: str | None = None
    category: str | None = None  # a category code: that category and the ones below it
    urgency: str | None = None
    channel: str | None = None
    overdue: bool | None = None  # True: late now (to accept or to resolve); False: not late
    waiting: bool | None = None  # True: waiting for its holder to accept (new); False: accepted or closed
    due_within: int | None = None  # hours: not late now, late within that many hours
    escalated: bool | None = None  # True: held at the level it climbed to by escalation (not returned down)
    area: Area | None = None  # belonging to or held in this area or below (`area`, or `area_id` in the API)
    q: str | None = None  # a code (exact), a phone (exact), or words of the title, description or address
    date_from: dt.date | None = None  # received on or after this local day
    date_to: dt.date | None = None  # received on or before this local day
    # The call-back queue (回访): resolved, not rated by the resident, no reached call back yet, and
    # filed by a channel other than the resident page (an unanswered call leaves it in the queue).
    call_back: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, user: Any, strict: bool = False) -> DemandFilter:
        def text(name: str) -> str | None:
            value = params.get(name)
            return str(value).strip() or None if value is not None else None

        def choice(name: str, values: list[str]) -> str | None:
            value = text(name)
            return value if value in values or (strict and value) else None

        def day(name: str) -> dt.date | None:
            value = text(name)
            if value is None:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                if strict:
                    raise ValidationFailed("日期格式应为 YYYY-MM-DD", "dates are YYYY-MM-DD", field=name) from None
                return None

        def flag(name: str) -> bool | None:
            raw = params.get(name)
            value = str(raw).strip().lower() if raw not in (None, "") else ""
            found = True if value in _TRUE else False if value in _FALSE else None
            if strict and value and found is None:
                raise ValidationFailed(f"{name} 应为 true 或 false", f"{name} is true or false", field=name)
            return found

        def hours(name: str) -> int | None:
            value = text(name)
            if value is None:
                return None
            if value.isdigit() and 1 <= int(value) <= MAX_DUE_WITHIN_HOURS:
                return int(value)
            if strict:
                raise ValidationFailed(
                    f"{name} 应为 1 到 {MAX_DUE_WITHIN_HOURS} 的整数（小时）",
                    f"{name} is a whole number of hours from 1 to {MAX_DUE_WITHIN_HOURS}",
                    field=name,
                )
            return None

        call_back_text = str(params.get("call_back") or "").strip().lower()
        if strict and call_back_text and call_back_text not in _TRUE | _FALSE:
            raise ValidationFailed("call_back 应为 true 或 false", "call_back is true or false", field="call_back")

        category = text("category")
        if category and not strict and not Category.objects.filter(code=category).exists():
            category = None

        area = None
        area_name = "area_id" if params.get("area_id") not in (None, "") else "area"
        area_raw = text(area_name)
        if area_raw is not None:
            if strict:
                if not area_raw.isdigit():
                    raise ValidationFailed("区域编号应为整数", "an area id is a whole number", field=area_name)
                area = area_get(user=user, pk=int(area_raw))  # NotFound outside the scope
            elif area_raw.isdigit():
                found = Area.objects.filter(pk=int(area_raw)).first()
                # Outside the scope it filters nothing in: the list is scoped anyway, never widened.
                area = found if found is not None and scope_for(user).covers_path(found.path) else None

        return cls(
            state=choice("state", State.values),
            category=category,
            urgency=choice("urgency", Urgency.values),
            channel=choice("channel", Channel.values),
            overdue=flag("overdue"),
            waiting=flag("waiting"),
            due_within=hours("due_within"),
            escalated=flag("escalated"),
            area=area,
            q=text("q"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            call_back=call_back_text in _TRUE,
        )

    @property
    def phone(self) -> str:
        """The phone searched for (exactly), or "" when the search is words or a code."""
        return normalise_phone(self.q) if self.q and is_phone(self.q) else ""

    def apply(self, qs: QuerySet[Demand]) -> QuerySet[Demand]:
        if self.state:
            qs = qs.filter(state=self.state)
        if self.category:
            qs = qs.filter(Q(category__code=self.category) | Q(category__parent__code=self.category))
        if self.urgency:
            qs = qs.filter(urgency=self.urgency)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        if self.area is not None:
            qs = qs.filter(Q(area_path__startswith=self.area.path) | Q(holder_path__startswith=self.area.path))
        if self.overdue is not None:
            late = late_q(clock.now())
            qs = qs.filter(late) if self.overdue else qs.exclude(late)
        if self.waiting is not None:
            waiting = Q(state__in=WAITING_STATES)
            qs = qs.filter(waiting) if self.waiting else qs.exclude(waiting)
        if self.due_within is not None:
            now = clock.now()
            qs = qs.filter(late_q(now + dt.timedelta(hours=self.due_within))).exclude(late_q(now))
        if self.escalated is not None:
            qs = qs.filter(escalated_q()) if self.escalated else qs.exclude(escalated_q())
        if self.phone:
            qs = qs.filter(reporter_phone=self.phone)  # exact: a phone is never matched by part
        elif self.q:
            q = self.q
            qs = qs.filter(
                Q(code__iexact=q) | Q(title__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q)
            )
        if self.date_from:
            qs = qs.filter(created_at__date__gte=self.date_from)
        if self.date_to:
            qs = qs.filter(created_at__date__lte=self.date_to)
        if self.call_back:
            reached = CallBack.objects.filter(demand=OuterRef("pk"), reached=True)
            qs = qs.filter(state=State.RESOLVED, satisfaction__isnull=True, channel__in=CALL_BACK_CHANNELS).exclude(
                Exists(reached)
            )
        return qs
