"""Open government (政务公开): a catalogue of disclosure items per level, in standard domains, with their history.

Rules the models keep: an item belongs to one city, town or village and one domain; what the public
sees is the latest published version (a `DisclosureVersion`), never the working copy being edited;
every publish keeps the previous content as a version; an item published with an update frequency
is due again `frequency_days` after publishing, and the worker marks it overdue once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DisclosureDomain(models.Model):
    """A standard disclosure domain (基层政务公开标准目录: 财政预决算, 社会救助, …)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("disclosure domain")
        verbose_name_plural = _("disclosure domains")
        ordering = ["ordering", "code"]

    def __str__(self) -> str:
        return self.name


class Frequency(models.IntegerChoices):
    """How often an item must be refreshed, in days (0: standing information, no due date)."""

    REALTIME = 1, _("Real time")
    MONTHLY = 30, _("Monthly")
    QUARTERLY = 90, _("Quarterly")
    YEARLY = 365, _("Yearly")
    STANDING = 0, _("Standing (long-term)")


class ItemState(models.TextChoices):
    """draft → published ⇄ withdrawn (with a reason); a published item may be edited and published again."""

    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DisclosureItem(models.Model):
    """One disclosure item of an area (city, town or village) in one domain: its working copy and state."""

    area = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="disclosure_items", verbose_name=_("area")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    level = models.CharField(_("level"), max_length=10, editable=False)
    domain = models.ForeignKey(
        DisclosureDomain, on_delete=models.PROTECT, related_name="items", verbose_name=_("domain")
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    frequency_days = models.PositiveSmallIntegerField(
        _("update frequency"), choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    responsible_unit = models.CharField(_("responsible unit"), max_length=100)
    state = models.CharField(_("state"), max_length=10, choices=ItemState.choices, default=ItemState.DRAFT)
    # The working copy differs from the published version (edited since the last publish).
    has_changes = models.BooleanField(_("unpublished changes"), default=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    next_due_at = models.DateTimeField(_("next update due"), null=True, blank=True, editable=False)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True, editable=False)
    withdrawn_reason = models.CharField(_("reason withdrawn"), max_length=300, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), editable=False)
    updated_at = models.DateTimeField(_("updated at"), editable=False)

    class Meta:
        verbose_name = _("disclosure item")
        verbose_name_plural = _("disclosure items")
        ordering = ["area_path", "domain__ordering", "id"]
        indexes = [
            # The worker's sweep: published items past their due date, not yet flagged.
            models.Index(
                fields=["next_due_at"],
                name="disclosure_due_unflagged",
                condition=Q(state="published", overdue_since__isnull=True),
            ),
            models.Index(fields=["area_path", "state"], name="disclosure_area_state"),
        ]

    def __str__(self) -> str:
        return self.title


class DisclosureVersion(models.Model):
    """What the public saw from one publish to the next: never changed after it is written."""

    item = models.ForeignKey(DisclosureItem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    responsible_unit = models.CharField(_("responsible unit"), max_length=100)
    attachment_ids = models.JSONField(_("attachments"), default=list)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Whether this publish came on or before the previous version's due date (None: first or standing).
    on_time = models.BooleanField(_("published on time"), null=True)

    class Meta:
        verbose_name = _("disclosure version")
        verbose_name_plural = _("disclosure versions")
        ordering = ["item", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="disclosureversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"


class DisclosureAttachment(models.Model):
    """A file attached to an item (PDF, image, spreadsheet); public only once a published version lists it."""

    item = models.ForeignKey(DisclosureItem, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="opengov/%Y/%m/")
    name = models.CharField(_("file name"), max_length=120)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
