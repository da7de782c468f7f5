"""The county's own holiday calendar: which years it knows, and the days that differ from Monday–Friday.

A year is *covered* only when its `CalendarYear` row exists. Inside a covered year a weekday is a working
day unless a `CalendarDay` says `holiday`, and a Saturday or Sunday is a rest day unless a `CalendarDay`
says `workday` (调休上班, an adjusted working day). Rows are written only by `wangge.holidays.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    PACKAGE = "package", _("chinesecalendar package")
    NOTICE = "notice", _("State Council notice (imported)")
    MANUAL = "manual", _("entered by hand")


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("holiday (rest day)")
    WORKDAY = "workday", _("adjusted working day")


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=40, help_text=_("The festival, e.g. 春节 or 国庆节."))
    # Kept beside the date so a year's rows are one indexed lookup (the cache loads a year at a time).
    year = models.PositiveSmallIntegerField(_("year"), db_index=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name} ({self.get_kind_display()})"
