"""Governance topics (每月一题): a hot issue the city or a town takes on as a piece of work.

A topic names a lead department, a plan and a due date; it keeps the hot issue's signature
(category, place, key words) so that new demands about the same problem are linked to it by the
worker and their reporters told; progress notes (public or staff-only) record what was done, and a
closure note ends it. Proactive tasks (未诉先办) are demands the topic or a facility's repeated
failures opened in a grid before anyone complained.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TopicState(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("topic state", "Proposed")
    ACTIVE = "active", pgettext_lazy("topic state", "Active")
    DONE = "done", pgettext_lazy("topic state", "Done")


# The states the public page shows: a proposed topic is still the staff's draft.
PUBLIC_STATES = (TopicState.ACTIVE, TopicState.DONE)


class GovernanceTopic(models.Model):
    """One governance topic (每月一题) of an area (the city or a town), led by a department."""

    title = models.CharField(_("title"), max_length=120)
    summary = models.TextField(_("summary"), blank=True)
    area = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="governance_topics", verbose_name=_("area")
    )
    area_path_fields = ("area_path", "place_path")  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    department = models.ForeignKey(
        "registry.Department",
        on_delete=models.PROTECT,
        related_name="governance_topics",
        verbose_name=_("lead department"),
    )
    plan = models.TextField(_("plan"), blank=True)
    due_on = models.DateField(_("due date"))
    state = models.CharField(_("state"), max_length=10, choices=TopicState.choices, default=TopicState.PROPOSED)
    closure_note = models.TextField(_("closure note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The hot issue's signature: new demands of this category under this place whose words match are linked.
    category = models.ForeignKey(
        "demands.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("category"),
    )
    place_path = models.CharField(max_length=255, blank=True, editable=False)
    keywords = models.JSONField(_("key words"), default=list, blank=True)
    project = models.ForeignKey(
        "projects.LivelihoodProject",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("livelihood project"),
    )
    # The highest demand id the auto-link pass has looked at (its claim: a conditional UPDATE moves it).
    scanned_through = models.BigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("governance topic")
        verbose_name_plural = _("governance topics")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "area_path"], name="topic_state_path")]

    def __str__(self) -> str:
        return self.title

    @property
    def match_path(self) -> str:
        """Where new demands are matched: the hot issue's place, else the topic's whole area."""
        return self.place_path or self.area_path


class LinkHow(models.TextChoices):
    HOT_ISSUE = "hot_issue", _("From the hot issue")
    AUTO = "auto", _("Matched automatically")
    HAND = "hand", _("Linked by hand")
    PROACTIVE = "proactive", _("Proactive task")


class TopicDemand(models.Model):
    """A demand that belongs to a topic; `told_at` is when its reporter was told (once)."""

    topic = models.ForeignKey(GovernanceTopic, on_delete=models.CASCADE, related_name="links")
    demand = models.ForeignKey("demands.Demand", db_constraint=False, on_delete=models.CASCADE, related_name="+")
    how = models.CharField(_("how"), max_length=10, choices=LinkHow.choices)
    linked_at = models.DateTimeField(_("linked at"))
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    told_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("linked demand")
        verbose_name_plural = _("linked demands")
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "demand"], name="topicdemand_topic_demand")]

    def __str__(self) -> str:
        return f"{self.topic_id}:{self.demand_id}"


class TopicProgress(models.Model):
    """A dated progress note by staff; public ones show on the public page (no personal data there)."""

    topic = models.ForeignKey(GovernanceTopic, on_delete=models.CASCADE, related_name="progress")
    on = models.DateField(_("date"))
    note = models.TextField(_("progress"))
    is_public = models.BooleanField(_("public"), default=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.on} {self.note[:30]}"


class ProactiveSource(models.TextChoices):
    TOPIC = "topic", _("Governance topic")
    FACILITY = "facility", _("Repeated facility failures")


class ProactiveTask(models.Model):
    """A proactive task (未诉先办): a demand opened in a grid before anyone complained, and why."""

    source = models.CharField(_("source"), max_length=10, choices=ProactiveSource.choices)
    topic = models.ForeignKey(
        GovernanceTopic, null=True, blank=True, on_delete=models.CASCADE, related_name="proactive_tasks"
    )
    facility = models.ForeignKey(
        "facilities.Facility", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    demand = models.OneToOneField("demands.Demand", db_constraint=False, on_delete=models.CASCADE, related_name="+")
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    failures = models.PositiveIntegerField(default=0)  # the failures that opened it (facility source)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("proactive task")
        verbose_name_plural = _("proactive tasks")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["facility", "opened_at"], name="proactive_facility_at")]

    def __str__(self) -> str:
        return f"{self.source}:{self.demand_id}"
