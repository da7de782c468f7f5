"""Triage: versioned text models, keyword rules, label mapping, settings and training examples."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Target(models.TextChoices):
    """What a model's labels are: demand categories (or labels mapped to them) or departments."""

    CATEGORY = "category", _("Category")
    DEPARTMENT = "department", _("Department")


class TriageModel(models.Model):
    """A trained classifier, versioned per name; at most one per target is active and only a person activates it."""

    name = models.CharField(_("name"), max_length=64)
    target = models.CharField(_("target"), max_length=12, choices=Target.choices, default=Target.CATEGORY)
    version = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the examples came from: "csv:<file name>" or "db" (confirmed demands + training examples).
    trained_on = models.CharField(_("trained on"), max_length=255)
    trained_rows = models.PositiveIntegerField(_("rows"), default=0)
    labels = models.JSONField(_("labels"), default=list)
    params = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    # skops bytes (never a pickle): loaded with an explicit list of trusted types.
    file = models.BinaryField(_("model file"), editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    size_bytes = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=False)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    activated_via = models.CharField(_("activated via"), max_length=100, blank=True)
    # The model this one replaced when it was activated: what a rollback returns to.
    replaced = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("triage model")
        verbose_name_plural = _("triage models")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="triagemodel_name_version"),
            # Intake reads exactly one active model per target (category, department).
            models.UniqueConstraint(
                fields=["target"], condition=Q(is_active=True), name="triagemodel_one_active_per_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class RuleKind(models.TextChoices):
    WORDS = "words", _("Words (all must appear)")
    REGEX = "regex", _("Regular expression")


class KeywordRule(models.Model):
    """An administrator's rule that acts before the model and says which words it matched."""

    pattern = models.CharField(
        _("pattern"),
        max_length=300,
        help_text=_("Words separated by spaces or 、 (all must appear), or a regular expression"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=RuleKind.choices, default=RuleKind.WORDS)
    category_code = models.CharField(_("category code"), max_length=32)
    department_code = models.CharField(_("department code"), max_length=32, blank=True)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Higher acts first"))
    enabled = models.BooleanField(_("enabled"), default=True)
    # Off for the default rules shipped with the catalogue: they suggest and a person confirms.
    auto_apply = models.BooleanField(
        _("apply without a person"), default=True, help_text=_("Off: the rule only suggests")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("keyword rule")
        verbose_name_plural = _("keyword rules")
        ordering = ["-priority", "id"]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.category_code}"


class LabelMapping(models.Model):
    """Which demand category (and department) a model label stands for in this county."""

    label = models.CharField(_("model label"), max_length=64, unique=True)
    category_code = models.CharField(_("category code"), max_length=32)
    department_code = models.CharField(_("department code"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("label mapping")
        verbose_name_plural = _("label mappings")
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label} → {self.category_code}"


class TriageSettings(models.Model):
    """The county's thresholds (one row): above the confidence a suggestion is applied without asking."""

    auto_apply_confidence = models.FloatField(_("apply automatically from confidence"), default=0.85)
    rules_auto_apply = models.BooleanField(_("apply keyword rule hits automatically"), default=True)
    duplicate_threshold = models.FloatField(_("duplicate similarity threshold"), default=0.45)
    duplicate_window_days = models.PositiveIntegerField(_("duplicate window (days)"), default=14)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    # The worker's retraining claims the row with a conditional UPDATE, so two workers never train at once.
    retrain_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("triage settings")
        verbose_name_plural = _("triage settings")

    def __str__(self) -> str:
        return "智能分拨设置"


class TrainingExample(models.Model):
    """Every confirmation or correction of a suggestion, kept as a labelled example for the next model."""

    demand = models.ForeignKey(
        "demands.Demand",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_examples",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category_code = models.CharField(_("category code"), max_length=32)
    department_code = models.CharField(_("department code"), max_length=32, blank=True)
    suggested_category_code = models.CharField(max_length=32, blank=True)
    suggested_confidence = models.FloatField(null=True, blank=True)
    accepted = models.BooleanField(_("suggestion accepted"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("training example")
        verbose_name_plural = _("training examples")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} → {self.category_code}"


class HotIssueSet(models.Model):
    """The hot issues of one area over the last `days` days as the worker last grouped them (derived data).

    Grouping thousands of demands by text takes seconds; the pages read this row instead
    (`selectors.hot_issues_for`), and the worker regroups it when its refresh period has passed
    (`hot.refresh_period`: TRIAGE_HOT_REFRESH_SECONDS for the shortest window, longer for longer ones).
    `area_path` "" is every area (city-wide roles).
    """

    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, blank=True)
    days = models.PositiveSmallIntegerField()
    # The groups of demands created in [since, computed_at), hottest first (HotGroup fields, all members).
    since = models.DateTimeField()
    computed_at = models.DateTimeField()
    groups = models.JSONField(default=list)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("hot issues")
        verbose_name_plural = _("hot issues")
        constraints = [models.UniqueConstraint(fields=["area_path", "days"], name="hotissueset_area_days")]

    def __str__(self) -> str:
        return f"{self.area_path or '*'} {self.days}d @ {self.computed_at:%Y-%m-%d %H:%M}"


class HotCluster(models.Model):
    """Demands of one city about the same problem, grown one new demand at a time (`hotclusters`; derived data).

    `vector` is the sum of its members' unit character n-gram vectors (hashed feature ids as int32,
    then float32 weights); a new demand joins the nearest cluster of its city whose last member is
    inside the longest window, else starts one. The hot sets group the window's demands by cluster.
    """

    area_path_fields = ("city_path",)  # rewritten by registry area_move
    city_path = models.CharField(max_length=64)
    vector = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["last_at"], name="hotcluster_last"),
            models.Index(fields=["updated_at"], name="hotcluster_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.city_path} #{self.pk} ({self.size})"


class HotMember(models.Model):
    """The hot cluster a demand was put in when the worker first saw it (one row per demand)."""

    demand = models.OneToOneField(
        "demands.Demand", primary_key=True, db_constraint=False, on_delete=models.CASCADE, related_name="+"
    )
    cluster = models.ForeignKey(HotCluster, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.demand_id} → {self.cluster_id}"
