"""Livelihood projects (十大重点民生实事): targets, milestones and progress reports checked by the city.

Rules the models keep: a project is either in a livelihood domain or a major work of a known kind
(a road, a tunnel, a bridge); its target is positive; a progress report gives the cumulative figure
achieved to date (the increment is computed), and only reports the city has checked count — the
project's `achieved` is the latest checked cumulative figure, written by `report_check` alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Domain(models.TextChoices):
    """What a project delivers; major works are tracked by their milestones as much as by a figure."""

    SCHOOL_PLACES = "school_places", _("School places")
    TOILETS = "toilets", _("Public and rural toilets")
    HOSPITAL_BEDS = "hospital_beds", _("Hospital beds")
    PARKING = "parking", _("Parking spaces")
    ELDERLY_CARE = "elderly_care", _("Elderly care")
    TRANSPORT = "transport", _("Transport")
    MARKETS = "markets", _("Markets")
    ESTATE_LIFTS = "estate_lifts", _("Lifts in old estates")
    MAJOR_WORKS = "major_works", _("Major works")


class WorksKind(models.TextChoices):
    ROAD = "road", _("Road")
    TUNNEL = "tunnel", _("Tunnel")
    BRIDGE = "bridge", _("Bridge")


# Units seen in the article and in county work reports; the field stays free text.
UNITS = ["学位", "个", "张", "座", "台", "座(户)", "米", "公里", "户", "栋"]


class LivelihoodProject(models.Model):
    """One of the year's key livelihood projects: a target and unit, a deadline, a department and its people."""

    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices)
    works_kind = models.CharField(_("kind of works"), max_length=10, choices=WorksKind.choices, blank=True)
    target = models.PositiveIntegerField(_("target"))
    unit = models.CharField(_("unit"), max_length=10)
    budget_fen = models.BigIntegerField(_("budget (fen)"), default=0)
    department = models.ForeignKey(
        "registry.Department",
        on_delete=models.PROTECT,
        related_name="livelihood_projects",
        verbose_name=_("responsible department"),
    )
    # [{"name": "…", "role": "…"}]: personal data, shown to staff only, never on the public page.
    people = models.JSONField(_("responsible people"), default=list, blank=True)
    deadline = models.DateField(_("deadline"))
    area = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="livelihood_projects", verbose_name=_("area")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    # The latest checked cumulative figure (only `report_check` writes it) and the day it reached the target.
    achieved = models.PositiveIntegerField(_("achieved (checked)"), default=0, editable=False)
    achieved_as_of = models.DateField(_("achieved as of"), null=True, blank=True, editable=False)
    completed_on = models.DateField(_("target reached on"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False)

    class Meta:
        verbose_name = _("livelihood project")
        verbose_name_plural = _("livelihood projects")
        ordering = ["year", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(target__gt=0), name="project_target_positive"),
            models.CheckConstraint(
                condition=(Q(domain="major_works") & ~Q(works_kind="")) | (~Q(domain="major_works") & Q(works_kind="")),
                name="project_works_kind_iff_major_works",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    """A dated step of a project (7月1日前试通车); done when a checked report declares it reached."""

    project = models.ForeignKey(LivelihoodProject, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("milestone"), max_length=120)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "position", "id"]

    def __str__(self) -> str:
        return self.name


class ReportState(models.TextChoices):
    """submitted → checked (counts publicly) or returned (with a reason; a new report may follow)."""

    # The bare word "Submitted" is a demand's 待接单; this one reads 待审核.
    SUBMITTED = "submitted", pgettext_lazy("progress report", "Submitted")
    CHECKED = "checked", _("Checked")
    RETURNED = "returned", _("Sent back")


class ProgressReport(models.Model):
    """A report of the cumulative figure achieved to date; the city checks it before it counts."""

    project = models.ForeignKey(LivelihoodProject, on_delete=models.CASCADE, related_name="reports")
    period = models.DateField(_("figures as of"))
    # The reporter states the cumulative figure; the increment over the last checked figure is computed.
    achieved_to_date = models.PositiveIntegerField(_("achieved to date (cumulative)"))
    increment = models.IntegerField(_("increment"), default=0, editable=False)
    narrative = models.TextField(_("narrative"), blank=True)
    milestone = models.ForeignKey(
        Milestone,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("milestone reached"),
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_reports", editable=False
    )
    reported_at = models.DateTimeField(_("reported at"), editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=ReportState.choices, default=ReportState.SUBMITTED, db_index=True
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="progress_reports_checked",
        editable=False,
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True, editable=False)
    return_reason = models.CharField(_("reason sent back"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["period", "reported_at", "id"]
        indexes = [models.Index(fields=["project", "state", "period"], name="report_project_state_period")]

    def __str__(self) -> str:
        return f"{self.project_id}@{self.period}: {self.achieved_to_date}"


class ReportPhoto(models.Model):
    """A cleaned photo (images only, EXIF stripped) of a progress report; served only to staff who see it."""

    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="projects/%Y/%m/")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.image.name
