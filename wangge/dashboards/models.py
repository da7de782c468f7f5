"""Dashboards: rollups of the demand measures, export jobs and the log of unmasked personal data.

Rules kept by the models: a rollup row is derived data, one per (day, key), rewritten whole by
`rollup_refresh` and never edited by hand; the counters are the numerators and denominators of the
measures of docs/measures.md (so sums over days, areas or categories stay exact); an export job moves only
forward (queued → running → done or failed); every view or export of unmasked personal data leaves
a `PiiAccessLog` row that nobody updates.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The counters a rollup row carries, in the order reports list them. Each is a count of demands
# (received on the row's day, in its area or department and category) that meet one condition
# of `wangge.dashboards.measures.demand_facts`.
COUNTERS: tuple[str, ...] = (
    "received",
    "open",
    "overdue",
    "accepted",
    "response_due",
    "responded_on_time",
    "resolved",
    "answered",
    "ontime_due",
    "resolved_on_time",
    "asked_solved",
    "solved",
    "resolved_ever",
    "reworked",
    "rated",
    "satisfied",
    "handed_on",
    "returned",
    "local",
    "handled",
    "extended",
    "rejected",
    "merged",
    "closed",
    "climb_grid",
    "climb_branch",
    "climb_village",
    "climb_town",
    "climb_city",
    "climb_department",
)
# Sums over the same demands: working seconds to accept and to resolve, and urges (督办数).
SUMS: tuple[str, ...] = ("accept_seconds", "resolve_seconds", "urges")
HISTOGRAMS: tuple[str, ...] = ("accept_hist", "resolve_hist")

# The facts column naming each area level's owner (the area of that level above the demand).
LEVEL_COLUMNS = {
    "city": "city_id",
    "town": "town_id",
    "village": "village_id",
    "branch": "branch_id",
    "grid": "grid_id",
}
# Levels whose figures are read from the facts (`selectors.tallies.fact_rows`), with no rollup rows
# (`services.rollup_keys.GROUPS` leaves them out): a micro-grid of 10–30 households has a demand on few
# days, so its rows were nearly one a demand (4.5 M of the 6.9 M rows at 5 M demands, and most of the
# first build's regrouping), as many as its facts.
FACTS_LEVELS = frozenset({"grid"})


class RollupLevel(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town / street")
    VILLAGE = "village", _("Village / community")
    BRANCH = "branch", _("Party branch / group")
    GRID = "grid", _("Micro-grid")
    DEPARTMENT = "department", _("Department")


class Cut(models.TextChoices):
    TOTAL = "total", _("All categories")
    CATEGORY = "category", _("One category")
    CHANNEL = "channel", _("One channel")


def _derived_key(to: str, **kwargs: Any) -> models.ForeignKey[Any]:
    """A rollup row's optional relation: derived data rebuilt from the demands, so no database constraint
    (Django still cascades a deleted area, department or category; a constraint fired a check per row and
    relation when the first build committed millions of rows) and no single-column index (the composite
    indexes of Meta lead with area and department; category is indexed only where set)."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
        **kwargs,
    )


class DemandRollup(models.Model):
    """Counts of one day's demands for one area (or department) and category; rewritten whole, never edited."""

    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=10, choices=RollupLevel.choices)
    # The relations below are derived data rebuilt from the demands (`_derived_key`).
    area = _derived_key("registry.Area", verbose_name=_("area"))
    # The area's path, so that "this area and below" stays one prefix filter (scoping).
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, blank=True)
    department = _derived_key("registry.Department")
    cut = models.CharField(max_length=8, choices=Cut.choices, default=Cut.TOTAL)
    # With cut "category": the demand's category (null: not yet categorised).
    category = _derived_key("demands.Category")
    # With cut "channel": how the demands came in (hotline, WeChat, visit …): 满意率 and 解决率 per channel.
    channel = models.CharField(max_length=16, blank=True)
    key = models.CharField(max_length=64, editable=False)

    received = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    response_due = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    ontime_due = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    asked_solved = models.PositiveIntegerField(default=0)
    solved = models.PositiveIntegerField(default=0)
    resolved_ever = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    handed_on = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    local = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    climb_grid = models.PositiveIntegerField(default=0)
    climb_branch = models.PositiveIntegerField(default=0)
    climb_village = models.PositiveIntegerField(default=0)
    climb_town = models.PositiveIntegerField(default=0)
    climb_city = models.PositiveIntegerField(default=0)
    climb_department = models.PositiveIntegerField(default=0)
    # Working seconds from receipt to first acceptance (over `accepted`) and to resolution (over `answered`).
    accept_seconds = models.BigIntegerField(default=0)
    resolve_seconds = models.BigIntegerField(default=0)
    urges = models.PositiveIntegerField(default=0)
    # Sparse histograms {bucket: count} of the same times, for the median and 90th percentile.
    accept_hist = models.JSONField(default=dict)
    resolve_hist = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("demand rollup")
        verbose_name_plural = _("demand rollups")
        constraints = [models.UniqueConstraint(fields=["day", "key"], name="demandrollup_day_key")]
        indexes = [
            # Every dashboard read: one area (or level, or department), one cut, a range of days.
            models.Index(fields=["area", "cut", "day"], name="demandrollup_area_cut_day"),
            models.Index(fields=["level", "cut", "day"], name="demandrollup_level_cut_day"),
            # Only department rows have one (an index over every row's NULL cost the build for nothing).
            models.Index(
                fields=["department", "cut", "day"],
                name="demandrollup_dept_cut_day",
                condition=models.Q(department__isnull=False),
            ),
            # A deleted category's rows (Django's cascade); only the category cut has one.
            models.Index(fields=["category"], name="demandrollup_category", condition=models.Q(category__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.key}: {self.received}"


class DemandFacts(models.Model):
    """One demand's contribution to the rollups as the last refresh computed it (derived data, never edited).

    The counters of `measures.demand_facts` packed as bits (bit i is COUNTERS[i]), the sums, the
    histogram buckets, and the buckets' keys: the local day, the area of each level above the
    demand, its department, category and channel. A refresh recomputes the facts of the demands
    that changed and then regroups only the rollup rows those demands fall in, in SQL
    (services.rollups); the rows of a day are thus a GROUP BY over this table, never a re-read of
    the day's demands. No foreign key to the demand: the row is rebuilt from it, never joined.
    """

    demand_id = models.BigIntegerField(primary_key=True)
    day = models.DateField()
    city_id = models.IntegerField(null=True)
    town_id = models.IntegerField(null=True)
    village_id = models.IntegerField(null=True)
    branch_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    department_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    channel = models.CharField(max_length=16, blank=True)
    bits = models.BigIntegerField(default=0)
    urges = models.IntegerField(default=0)
    accept_seconds = models.BigIntegerField(default=0)
    resolve_seconds = models.BigIntegerField(default=0)
    # Histogram bucket of each time (null when the demand was not accepted / not answered).
    accept_bucket = models.SmallIntegerField(null=True)
    resolve_bucket = models.SmallIntegerField(null=True)

    class Meta:
        verbose_name = _("demand facts")
        verbose_name_plural = _("demand facts")
        indexes = [
            models.Index(fields=["day"], name="demandfacts_day"),
            # A grid's figures are read from its facts (rollup_keys.FACTS_LEVELS).
            models.Index(fields=["grid_id", "day"], name="demandfacts_grid_day"),
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.day}"


class ActivityRollup(models.Model):
    """Visits and opinions of one day in one area (city, town, village); rewritten whole, never edited."""

    day = models.DateField(_("day"))
    level = models.CharField(_("level"), max_length=10, choices=RollupLevel.choices)
    area = models.ForeignKey("registry.Area", on_delete=models.CASCADE, related_name="+", verbose_name=_("area"))
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255)
    visits = models.PositiveIntegerField(default=0)
    opinions = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("activity rollup")
        verbose_name_plural = _("activity rollups")
        constraints = [models.UniqueConstraint(fields=["day", "area"], name="activityrollup_day_area")]
        indexes = [models.Index(fields=["level", "day"], name="activityrollup_level_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.area_id}: {self.visits}/{self.opinions}"


class RollupState(models.Model):
    """When a rollup was last refreshed; its row is also the lock that serialises refreshes."""

    name = models.CharField(max_length=32, unique=True)
    # Start of the last refresh that finished: the next one reads the limits passed since (frontier.limits_passed_q).
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # The highest event (and visit) id when that refresh began: the next one reads from there on
    # (an id range on the primary key, where `updated_at` has no index to scan).
    last_event_id = models.BigIntegerField(default=0)
    last_visit_id = models.BigIntegerField(default=0)
    # The ids at or below last_event_id / last_visit_id not seen yet (in flight then, or rolled back): ranges
    # [lo, hi, first missed (epoch seconds)] the next refresh reads again, with the top they were kept
    # for (frontier).
    pending = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    days = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.name}: {self.refreshed_at}"


class ExportKind(models.TextChoices):
    DEMANDS = "demands", _("Demand list")
    VISITS = "visits", _("Visit log")


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """A long export run by the worker for one person, inside that person's scope, file kept under MEDIA_ROOT."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("requested by")
    )
    kind = models.CharField(_("what"), max_length=16, choices=ExportKind.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # Only a city administrator may ask for every phone unmasked, and must say why (logged).
    unmasked = models.BooleanField(_("unmasked"), default=False)
    reason = models.TextField(_("why"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=ExportState.choices, default=ExportState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="exportjob_state_created")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def progress(self) -> int:
        """Percent done (100 once done)."""
        if self.state == ExportState.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(self.done_rows * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.state in (ExportState.DONE, ExportState.FAILED)


class PiiAccessLog(models.Model):
    """One view or export of unmasked personal data: who, when, what, why. Append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("who")
    )
    at = models.DateTimeField(_("when"))
    what = models.CharField(_("what"), max_length=300)
    why = models.TextField(_("why"))
    demand = models.ForeignKey(
        "demands.Demand", db_constraint=False, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    export = models.ForeignKey(ExportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="pii_logs")
    values = models.PositiveIntegerField(_("values shown"), default=0)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.what}"
