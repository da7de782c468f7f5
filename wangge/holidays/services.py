"""The only writers of the holiday calendar. Every change stamps the year (`updated_at`, `updated_by`)
and clears the in-process cache of `wangge.holidays.workdays`; other processes notice the new stamp
within `workdays.REFRESH_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.holidays import workdays
from wangge.holidays.models import CalendarDay, CalendarYear, DayKind, Source
from wangge.holidays.notice import NAME_MAX, WEEKDAYS, check_notice

YEAR_MIN, YEAR_MAX = 2000, 2100


def _forget() -> None:
    workdays.clear_cache()  # this process, at once (also inside the transaction)
    transaction.on_commit(workdays.clear_cache)  # and once the rows are visible to a fresh read


def _check_year(year: int) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationFailed(
            _("the year must lie between %(min)s and %(max)s"), params={"min": YEAR_MIN, "max": YEAR_MAX}, field="year"
        )


def _actor(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "pk", None) is not None else None


def _stamp_year(year: int, *, source: str, actor: Any, note: str | None = None) -> CalendarYear:
    """Create or stamp the year's row; `updated_at` always moves forward, since other processes watch it."""
    row = CalendarYear.objects.select_for_update().filter(year=year).first()
    now = clock.now()
    if row is not None and row.updated_at >= now:
        now = row.updated_at + dt.timedelta(microseconds=1)  # a frozen or stepped-back clock must still move it
    values: dict[str, Any] = {"source": source, "updated_at": now, "updated_by": _actor(actor)}
    if note is not None:
        values["note"] = note
    if row is None:
        return CalendarYear.objects.create(year=year, **values)
    for key, value in values.items():
        setattr(row, key, value)
    row.save(update_fields=list(values))
    return row


@transaction.atomic
def calendar_year_import(*, year: int, text: str, actor: Any = None, note: str | None = None) -> CalendarYear:
    """Replace `year` with the days of a notice file (format in notice.py); every problem refuses the whole file."""
    _check_year(year)
    checked = check_notice(text, year=year)
    if not checked.ok:
        raise ValidationFailed(
            _("the holiday file has %(count)s problems; nothing was written"),
            params={"count": len(checked.problems)},
            problems=checked.problems,
        )
    CalendarDay.objects.filter(year=year).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d.date, kind=d.kind, name=d.name, year=year) for d in checked.days]
    )
    row = _stamp_year(year, source=Source.NOTICE, actor=actor, note=note if note is not None else checked.note)
    _forget()
    return row


@transaction.atomic
def calendar_year_save(*, year: int, note: str = "", actor: Any = None) -> CalendarYear:
    """Declare a year covered (its days are then added one by one), or change its note."""
    _check_year(year)
    existing = CalendarYear.objects.filter(year=year).first()
    source = existing.source if existing is not None else Source.MANUAL
    row = _stamp_year(year, source=source, actor=actor, note=note)
    _forget()
    return row


@transaction.atomic
def calendar_year_delete(*, year: int, actor: Any = None) -> None:
    """Forget a year: its dates fall back to Monday–Friday again, with a warning."""
    CalendarDay.objects.filter(year=year).delete()
    CalendarYear.objects.filter(year=year).delete()
    _forget()


def check_day(*, date: dt.date, kind: str, name: str) -> None:
    """The rules for one hand-entered day (also used by the back-office form before saving)."""
    if kind not in DayKind.values:
        raise ValidationFailed(_("the kind must be holiday or adjusted working day"), field="kind")
    if not name.strip():
        raise ValidationFailed(_("the name of the festival is empty"), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("the name is longer than %(max)s characters"), params={"max": NAME_MAX}, field="name")
    if kind == DayKind.WORKDAY and date.weekday() < 5:
        raise ValidationFailed(
            _("%(day)s is a %(weekday)s: an adjusted working day (调休上班) is always a Saturday or a Sunday"),
            params={"day": date, "weekday": WEEKDAYS[date.weekday()]},
            field="kind",
        )
    if not CalendarYear.objects.filter(year=date.year).exists():
        raise ValidationFailed(
            _("the calendar has no year %(year)s yet: import its notice or add the year first"),
            params={"year": date.year},
            field="date",
        )


@transaction.atomic
def calendar_day_save(
    *, date: dt.date, kind: str, name: str, actor: Any = None, previous: dt.date | None = None
) -> CalendarDay:
    """Add or change one day by hand (`previous`: the date the row had, when the date itself is changed)."""
    name = name.strip()
    check_day(date=date, kind=kind, name=name)
    if previous is not None and previous != date:
        CalendarDay.objects.filter(date=previous).delete()
        if CalendarYear.objects.filter(year=previous.year).exists():
            _stamp_year(previous.year, source=Source.MANUAL, actor=actor)
    row, _created = CalendarDay.objects.update_or_create(
        date=date, defaults={"kind": kind, "name": name, "year": date.year}
    )
    _stamp_year(date.year, source=Source.MANUAL, actor=actor)
    _forget()
    return row


@transaction.atomic
def calendar_day_delete(*, date: dt.date, actor: Any = None) -> None:
    """Remove one listed day: it becomes an ordinary weekday or weekend day of its (still covered) year."""
    deleted, _rows = CalendarDay.objects.filter(date=date).delete()
    if deleted and CalendarYear.objects.filter(year=date.year).exists():
        _stamp_year(date.year, source=Source.MANUAL, actor=actor)
    _forget()
