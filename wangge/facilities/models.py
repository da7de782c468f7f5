"""Facilities under the director system (所长制): who answers for each one, how often they check it, what they found.

A facility (a public toilet, a refuse station, a market…) has up to three responsible directors, one per
level (bureau leader, sanitation staff, cleaner), each with an inspection rule "N times per day/week/
month". An inspection walks the facility type's checklist; a failed item becomes a demand routed like
any other, and a rule not met in a complete period becomes a `MissedInspection`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from wangge.core.masking import mask_phone
from wangge.registry.models import Datum


class DirectorLevel(models.TextChoices):
    """The three levels of the 安吉 toilet director system, highest first."""

    BUREAU_LEADER = "bureau_leader", _("Bureau leader")
    SANITATION_STAFF = "sanitation_staff", _("Sanitation staff")
    CLEANER = "cleaner", _("Cleaner")


# Highest first: a missed inspection is reported to the level above the one that missed it.
LEVEL_ORDER = [DirectorLevel.BUREAU_LEADER, DirectorLevel.SANITATION_STAFF, DirectorLevel.CLEANER]


class RulePeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")


# How often a director inspects, per period ("每日3次" in Chinese).
RULE_LABELS = {
    RulePeriod.DAY: _("%(count)s times a day"),
    RulePeriod.WEEK: _("%(count)s times a week"),
    RulePeriod.MONTH: _("%(count)s times a month"),
}


def _rule_text(period: str, count: int) -> str:
    label = RULE_LABELS.get(period)  # type: ignore[call-overload]
    return str(label) % {"count": count} if label is not None else str(count)


class Result(models.TextChoices):
    PASS = "pass", _("Passed")
    FAIL = "fail", _("Failed")


class FacilityType(models.Model):
    """A kind of facility with its checklist; a failed item files a demand in `category_code` (open list)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    # The demand category (demands.Category.code) a failed checklist item is filed under.
    category_code = models.CharField(_("demand category code"), max_length=32)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("sort"), default=100)

    class Meta:
        verbose_name = _("facility type")
        verbose_name_plural = _("facility types")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    """One thing an inspector checks at every facility of a type; it may file under its own category."""

    facility_type = models.ForeignKey(FacilityType, on_delete=models.CASCADE, related_name="checklist")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    # Overrides the type's category (e.g. a market's price board goes to 价格投诉); blank: the type's.
    category_code = models.CharField(_("demand category code"), max_length=32, blank=True)
    sort = models.PositiveIntegerField(_("sort"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["facility_type", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["facility_type", "code"], name="checklist_unique_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def demand_category_code(self) -> str:
        return self.category_code or self.facility_type.category_code


class Facility(models.Model):
    """A facility in one area; scoped by `area_path` like everything else, and by its managing department."""

    facility_type = models.ForeignKey(
        FacilityType, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("type")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # Stored in WGS-84; the datum the point came in (`registry.points.stored_point`).
    location_datum = models.CharField(
        _("datum of the location"), max_length=10, choices=Datum.choices, default=Datum.WGS84, db_default="wgs84"
    )
    area = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="facilities", verbose_name=_("area")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    # The unit that runs it (e.g. 城管局): its staff see the facility wherever it stands.
    department = models.ForeignKey(
        "registry.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilities",
        verbose_name=_("managing department"),
    )
    open_hours = models.CharField(_("open hours"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["area_path", "code"]

    def __str__(self) -> str:
        return self.name


class FacilityDirector(models.Model):
    """The person answering for a facility at one level, with the rule "count inspections per period".

    At most one active director per facility and level. A director may have an account (then they
    inspect on their phone) or only a name and phone (then staff record their checks on their behalf).
    """

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="directors")
    level = models.CharField(_("level"), max_length=20, choices=DirectorLevel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facility_directorships",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    rule_count = models.PositiveSmallIntegerField(_("inspections required"))
    rule_period = models.CharField(_("per"), max_length=8, choices=RulePeriod.choices)
    # The first local day the director answers for the facility: earlier periods are not theirs.
    since = models.DateField(_("director since"))
    is_active = models.BooleanField(_("active"), default=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("facility director")
        verbose_name_plural = _("facility directors")
        ordering = ["facility", "level", "-is_active", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "level"], condition=Q(is_active=True), name="facilitydirector_one_per_level"
            ),
            models.CheckConstraint(condition=Q(rule_count__gte=1), name="facilitydirector_rule_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.facility} · {self.get_level_display()} · {self.name}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def rule_label(self) -> Any:
        """The rule as a translation: rendered in the page's language, or in each language of a message."""
        return lazy(_rule_text, str)(self.rule_period, self.rule_count)


class Inspection(models.Model):
    """One visit by a director, walking the checklist; failed if any item failed."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="inspections")
    director = models.ForeignKey(FacilityDirector, on_delete=models.PROTECT, related_name="inspections")
    # Who entered it: the director's own account, or staff recording a named director's check.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("inspected at"), db_index=True)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    note = models.TextField(_("note"), blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # Stored in WGS-84; the datum the point came in (`registry.points.stored_point`).
    location_datum = models.CharField(
        _("datum of the location"), max_length=10, choices=Datum.choices, default=Datum.WGS84, db_default="wgs84"
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["director", "at"], name="inspection_director_at"),
            models.Index(fields=["facility", "-at"], name="inspection_facility_at"),
        ]

    def __str__(self) -> str:
        return f"{self.facility} @ {self.at:%Y-%m-%d %H:%M}"


class InspectionItem(models.Model):
    """One checklist line of an inspection; a failure links the demand filed for it (or the open one reused)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    checklist_item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("item"), max_length=50)  # as it read on the day
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    demand = models.ForeignKey(
        "demands.Demand",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspection_items",
    )
    # True when `demand` was already open from an earlier failure (commented, not filed again), or,
    # on a passed item, the demand still open from before: noted, not closed by the inspector.
    demand_reused = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        ordering = ["inspection", "checklist_item__sort", "id"]
        indexes = [models.Index(fields=["checklist_item", "passed"], name="inspitem_checklist_passed")]

    def __str__(self) -> str:
        return f"{self.name}: {'✓' if self.passed else '✗'}"

    @property
    def raised_demand(self) -> bool:
        return self.demand_id is not None and not self.passed and not self.demand_reused


class InspectionPhoto(models.Model):
    """A photo taken during an inspection (re-encoded, EXIF stripped), of one item or the whole visit."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    item = models.ForeignKey(InspectionItem, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="facilities/%Y/%m/")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("inspection photo")
        verbose_name_plural = _("inspection photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name


class MissedInspection(models.Model):
    """A complete period in which a director did fewer inspections than their rule; recorded once."""

    director = models.ForeignKey(FacilityDirector, on_delete=models.CASCADE, related_name="missed")
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="missed_inspections")
    period = models.CharField(max_length=8, choices=RulePeriod.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))  # exclusive
    required = models.PositiveSmallIntegerField(_("required"))
    done = models.PositiveSmallIntegerField(_("done"))
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    flagged_at = models.DateTimeField(_("flagged at"))

    class Meta:
        verbose_name = _("missed inspection")
        verbose_name_plural = _("missed inspections")
        ordering = ["-period_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["director", "period_start"], name="missedinspection_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.director} {self.period_start}: {self.done}/{self.required}"
