"""Missed inspections: flag each director below their rule once per period, and tell them and the level above."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.facilities import rules
from wangge.facilities.models import (
    LEVEL_ORDER,
    DirectorLevel,
    FacilityDirector,
    Inspection,
    MissedInspection,
    RulePeriod,
)
from wangge.facilities.services._common import _inspector, _told
from wangge.registry.models import Area, Level


def _staff_channel() -> str:
    return str(getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat"))


def _recipient(director: FacilityDirector) -> tuple[str, str] | None:
    """(channel, recipient): the account by the staff channel, else the phone by SMS."""
    if director.user_id:
        return _staff_channel(), f"user:{director.user_id}"
    if director.phone:
        return "sms", director.phone
    return None


def _responsible_above(director: FacilityDirector) -> list[tuple[str, str]]:
    """The next level up that answers for the facility; above the bureau leader, the facility's town."""
    higher = LEVEL_ORDER[: LEVEL_ORDER.index(DirectorLevel(director.level))]
    above = (
        FacilityDirector.objects.filter(facility_id=director.facility_id, level__in=higher, is_active=True)
        .exclude(pk=director.pk)
        .select_related("user")
    )
    by_level = {d.level: d for d in above}
    for level in reversed(higher):
        found = by_level.get(level)
        target = _recipient(found) if found is not None else None
        if target is not None:
            return [target]
    facility = director.facility
    town = next(
        (a for a in Area.objects.filter(path__in=facility.area.ancestor_paths()) if a.level == Level.TOWN),
        facility.area,
    )
    return [(_staff_channel(), f"area:{town.code}")]


def _notify_missed(missed: MissedInspection) -> None:
    from wangge.notifications.services import outbox_enqueue

    director = missed.director
    facility = missed.facility
    span = (
        f"{missed.period_start:%m月%d日}"
        if missed.period == RulePeriod.DAY
        else (f"{missed.period_start:%m月%d日}–{missed.period_end - dt.timedelta(days=1):%m月%d日}")
    )
    subject = _told(_("Inspections missed: %(facility)s"), {"facility": facility.name})
    body = _told(
        _(
            "%(inspector)s inspected %(type)s '%(facility)s' %(done)s times in %(span)s; "
            "%(rule)s is required (%(required)s)."
        ),
        {
            "inspector": _inspector(director),
            "span": span,
            "type": facility.facility_type.name,
            "facility": facility.name,
            "done": missed.done,
            "rule": director.rule_label,
            "required": missed.required,
        },
    )
    targets: list[tuple[str, str]] = []
    own = _recipient(director)
    if own is not None:
        targets.append(own)
    targets.extend(_responsible_above(director))
    for channel, recipient in dict.fromkeys(targets):
        outbox_enqueue(
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=body,
            payload={"missed_inspection_id": missed.pk, "facility_id": facility.pk, "director_id": director.pk},
            kind="facility.missed_inspection",
            area_path=facility.area_path,
            dedupe_key=f"facility-missed:{missed.pk}:{recipient}"[:200],
        )


@dataclass
class MissedReport:
    """What one pass flagged, per period kind."""

    flagged: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.flagged.values())

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.flagged.items())


def inspection_flag_missed(*, now: dt.datetime) -> MissedReport:
    """Flag every active director who did fewer inspections than their rule in the last complete period.

    Calendar periods in Asia/Shanghai: yesterday for daily rules, last Monday–Sunday, last month. A
    director is judged only for a period that began on or after the day they took the facility. Each
    (director, period) is flagged once: a unique constraint makes a second pass, or a second worker
    racing this one, write nothing and tell nobody twice.
    """
    today = rules.local_date(now)
    report = MissedReport()
    for period in RulePeriod.values:
        start, end = rules.last_complete(today, period)
        directors = FacilityDirector.objects.filter(
            rule_period=period, is_active=True, facility__is_active=True, since__lte=start
        ).exclude(missed__period_start=start)
        done = dict(
            Inspection.objects.filter(
                director__in=directors, at__gte=rules.local_midnight(start), at__lt=rules.local_midnight(end)
            )
            .values("director_id")
            .annotate(n=Count("id"))
            .values_list("director_id", "n")
        )
        flagged = 0
        for director in directors.select_related("facility__facility_type", "facility__area", "user"):
            count = done.get(director.pk, 0)
            if count >= director.rule_count:
                continue
            if _flag_one(director=director, period=period, start=start, end=end, done=count, now=now):
                flagged += 1
        report.flagged[period] = flagged
    return report


@transaction.atomic
def _flag_one(
    *, director: FacilityDirector, period: str, start: dt.date, end: dt.date, done: int, now: dt.datetime
) -> bool:
    try:
        with transaction.atomic():
            missed = MissedInspection.objects.create(
                director=director,
                facility=director.facility,
                period=period,
                period_start=start,
                period_end=end,
                required=director.rule_count,
                done=done,
                area_path=director.facility.area_path,
                flagged_at=now,
            )
    except IntegrityError:
        return False  # another worker flagged it first
    _notify_missed(missed)
    return True


def facilities_sweep() -> MissedReport:
    """The worker's pass (settings.WANGGE_WORKER_HOOKS, `manage.py facilities_sweep`): flag missed inspections now."""
    return inspection_flag_missed(now=clock.now())
