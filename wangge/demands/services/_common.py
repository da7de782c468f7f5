"""Small pieces every demand service shares: reading a demand afresh, checked text, limits, notes, photos."""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core import clock
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.text import Listed, clean_text
from wangge.demands import codes, sla
from wangge.demands.models import (
    ActorKind,
    Demand,
    DemandAssist,
    DemandEvent,
    DemandFollower,
    DemandPhoto,
    WarningLevel,
)
from wangge.registry.models import LEVEL_DEPTH, Area

log = logging.getLogger("wangge.demands")

MAX_TITLE = 200
MAX_TEXT = 5000

# Stored notes and messages to people are written in Chinese, whatever language the acting page uses.
TOLD_LANGUAGE = "zh-hans"


_M = TypeVar("_M", bound=Model)


@functools.cache
def _select_list(model: type[Model], skip: frozenset[str], vendor: str) -> str:
    qn = connection.ops.quote_name
    return ", ".join(qn(f.column) for f in model._meta.concrete_fields if f.name not in skip)


def one_by(model: type[_M], *, skip: Iterable[str] = (), **equal: Any) -> _M | None:
    """The row of `model` whose columns equal `equal` (a unique key), or None: one plain SELECT.

    Intake reads its category and grid by code on every request; compiling a QuerySet cost more than
    the round trip. The instance is the ORM's own (`raw`: converters, `from_db`); fields in `skip` are
    left unread (deferred), as `defer` would.
    """
    qn = connection.ops.quote_name
    columns = {f.name: f.column for f in model._meta.concrete_fields}
    where = " AND ".join(f"{qn(columns[name])} = %s" for name in equal)
    sql = (
        f"SELECT {_select_list(model, frozenset(skip), connection.vendor)} "
        f"FROM {qn(model._meta.db_table)} WHERE {where} LIMIT 1"
    )
    found = model._default_manager.raw(sql, [str(v) for v in equal.values()], using=connection.alias)
    return next(iter(found), None)


def in_chinese(message: Any, params: Mapping[str, Any] | None = None) -> str:
    """`message` (a lazy translation) rendered in Chinese, `%`-filled with `params` rendered in Chinese too."""
    with translation.override(TOLD_LANGUAGE):
        text = str(message)
        if params:
            text = text % {key: str(value) for key, value in params.items()}
    return text


# What the errors call each field a person fills in (context: one English word, several Chinese ones).
FIELD_LABELS = {
    "description": pgettext_lazy("demand field", "description"),
    "result": pgettext_lazy("demand field", "result"),
    "escalate_reason": pgettext_lazy("demand field", "reason to escalate"),
    "reject_reason": pgettext_lazy("demand field", "reason to reject"),
    "instructions": pgettext_lazy("demand field", "instructions"),
    "comment": pgettext_lazy("demand field", "comment"),
    "channel": pgettext_lazy("demand field", "channel"),
    "kind": pgettext_lazy("demand field", "kind"),
    "urgency": pgettext_lazy("demand field", "urgency"),
    "satisfaction": pgettext_lazy("demand field", "satisfaction"),
    "visibility": pgettext_lazy("demand field", "visibility"),
}


def _required_text(value: str | None, *, field: str, label: str, limit: int = MAX_TEXT) -> str:
    """`value` cleaned; refused when empty or longer than `limit` (`label` is a key of FIELD_LABELS)."""
    return clean_text(value, field=field, label=FIELD_LABELS[label], limit=limit, required=True)


def _choice(value: str, choices: Any, *, field: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            _("unknown %(label)s: %(value)s"), params={"label": FIELD_LABELS[field], "value": value}, field=field
        )
    return value


def _reload(demand: Demand | int) -> Demand:
    pk = demand if isinstance(demand, int) else demand.pk
    try:
        return Demand.objects.select_related("holder_area", "holder_department", "area", "category").get(pk=pk)
    except Demand.DoesNotExist:
        raise NotFound(_("demand not found")) from None


def table_facts(demand: Demand, move: Any = None) -> dict[str, bool]:
    """The facts the move table asks about this demand (see `transitions.allowed_moves`/`next_state`).

    `assists_open` costs a query, so it is read only for a resolve (`move` "resolve") or when no move is named.
    """
    category = demand.category
    facts = {
        "needs_verification": bool(category and category.needs_verification),
        "grid_dispatch": bool(category and category.grid_may_dispatch),
        "assists_open": False,
    }
    if move is None or str(move) == "resolve":
        facts["assists_open"] = DemandAssist.objects.filter(demand=demand, replied_at__isnull=True).exists()
    return facts


def _higher(a: str, b: str) -> str:
    """The higher of two levels (city is highest)."""
    if not a:
        return b
    if not b:
        return a
    return a if LEVEL_DEPTH.get(a, 99) <= LEVEL_DEPTH.get(b, 99) else b


def _token_ok(demand: Demand, token: str | None) -> bool:
    # Constant-time: a wrong token takes as long to refuse as a nearly right one.
    return bool(token) and hmac.compare_digest(str(demand.tracking_token).encode(), str(token).encode())


def _holder_changes(area: Area) -> dict[str, Any]:
    return {
        "holder_area": area,
        "holder_path": area.path,
        "holder_level": area.level,
        "holder_department": None,
        "holder_user": None,
    }


def _note_calendar_gap(demand: Demand, years: Iterable[int], at: dt.datetime) -> None:
    """Say on the timeline (staff only) that the limits were counted Monday–Friday: a year's holidays are missing.

    The calendar never guesses silently (wangge/holidays/workdays.py logs it too); the limits stay as
    counted, so entering the year later does not move a deadline someone was already given.
    """
    listed = sorted(years)
    if not listed:
        return
    note = in_chinese(
        _(
            "The holiday calendar has no %(years)s: these time limits were counted Monday to Friday "
            "(entering the year later does not recompute them)."
        ),
        {"years": Listed(listed)},
    )
    _note_event(demand, action="calendar_gap", note=note, actor_kind=ActorKind.SYSTEM, at=at)


def _fresh_deadlines(demand: Demand, now: dt.datetime, *, accept: bool = True) -> dict[str, Any]:
    """New limits for a new holder (or a reopened demand): the clock restarts from now."""
    limits, gap_years = sla.deadlines_and_fallback(category=demand.category, urgency=demand.urgency, start=now)
    _note_calendar_gap(demand, gap_years, now)
    values: dict[str, Any] = {
        "resolve_due_at": limits["resolve_due_at"],
        "yellow_at": limits["yellow_at"],
        "warning": WarningLevel.NONE,
    }
    if accept:
        values["accept_due_at"] = limits["accept_due_at"]
    return values


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M")


def _note_event(
    demand: Demand,
    *,
    action: str,
    note: str,
    actor: Any = None,
    actor_kind: str = ActorKind.STAFF,
    is_public: bool = False,
    follower: DemandFollower | None = None,
    at: dt.datetime | None = None,
) -> DemandEvent:
    """An event that records something about a demand without moving it (same state, same holder)."""
    label = demand.holder_label[:100]
    return DemandEvent.objects.create(
        demand=demand,
        at=at or clock.now(),
        actor=actor,
        actor_kind=actor_kind,
        action=action,
        from_state=demand.state,
        to_state=demand.state,
        from_holder=label,
        to_holder=label,
        note=note,
        is_public=is_public,
        follower=follower,
    )


def _follower_add(*, demand: Demand, phone: str, now: dt.datetime, merged_from: Demand | None = None) -> DemandFollower:
    """The follower row of `phone` on `demand`, made once (the reporter themself needs none: they hear anyway)."""
    existing = DemandFollower.objects.filter(demand=demand, phone=phone).first()
    if existing is not None:
        return existing
    try:
        # A savepoint: two taps at once make one row, and the loser reads the winner's.
        with transaction.atomic():
            return DemandFollower.objects.create(
                demand=demand, phone=phone, token=codes.new_tracking_token(), merged_from=merged_from, created_at=now
            )
    except IntegrityError:
        return DemandFollower.objects.get(demand=demand, phone=phone)


def _save_photos(demand: Demand, photos: Iterable[Any], *, event: DemandEvent | None, by_resident: bool) -> None:
    from wangge.core.photos import CleanPhoto

    now = clock.now()
    for photo in photos:
        assert isinstance(photo, CleanPhoto)
        item = DemandPhoto(demand=demand, event=event, uploaded_at=now, by_resident=by_resident)
        item.image.save(photo.name, photo.content, save=False)
        item.save()


def _clean_photos(photos: Iterable[Any]) -> list[Any]:
    items = list(photos or ())
    if not items:
        return []
    from wangge.core.photos import clean_photos

    return clean_photos(items)
