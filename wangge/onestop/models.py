"""One-stop services (一件事一次办): the item catalogue, bundles of items, applications and their tasks.

Rules the models keep: an item marked for village service points is handled at village level;
a bundle's items are ordered and unique; an application's tasks are one per item and each belongs to
the item's department; states are closed sets and every move is a conditional UPDATE on the state
and the version in services.py, so two staff acting at once give one winner.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.masking import mask_phone


class HandleLevel(models.TextChoices):
    """The lowest level whose service centre may handle an item (a city item needs the city hall)."""

    CITY = "city", _("City")
    TOWN = "town", _("Town / street")
    VILLAGE = "village", _("Village / community")


# Higher number: closer to the resident. A point may handle an item whose level is at or above it.
LEVEL_RANK: dict[str, int] = {HandleLevel.CITY: 0, HandleLevel.TOWN: 1, HandleLevel.VILLAGE: 2}


class MaterialKind(models.TextChoices):
    ORIGINAL = "original", _("Original")
    COPY = "copy", _("Copy")


class Material(models.Model):
    """A document an applicant hands in; shared by items so that a bundle asks for it once."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(
        _("original or copy"), max_length=10, choices=MaterialKind.choices, default=MaterialKind.ORIGINAL
    )
    count = models.PositiveSmallIntegerField(_("copies"), default=1)
    # 容缺受理: a secondary material may be promised and handed in before issuance.
    deferrable = models.BooleanField(_("may be supplied later (容缺)"), default=False)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """A government service item (政务服务事项) of one department, with its limit, fee and level."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        "registry.Department", on_delete=models.PROTECT, related_name="service_items", verbose_name=_("department")
    )
    materials = models.ManyToManyField(Material, related_name="items", blank=True, verbose_name=_("materials"))
    # The certificate or result the item issues (营业执照): other items of a bundle accept it
    # instead of asking the applicant for it (每个部门互认结果).
    produces = models.ForeignKey(
        Material,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="produced_by",
        verbose_name=_("produces"),
    )
    time_limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"), default=1)
    fee_fen = models.PositiveIntegerField(_("fee (fen)"), default=0)
    handle_level = models.CharField(_("lowest level that may handle it"), max_length=10, choices=HandleLevel.choices)
    village_ok = models.BooleanField(_("at village service points"), default=False)
    form_fields = models.JSONField(_("facts needed"), default=list)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(village_ok=False) | Q(handle_level="village"), name="serviceitem_village_ok_is_village"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ServiceBundle(models.Model):
    """A "one thing" (一件事): several items handled as one, with its published promise (6310)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    items: models.ManyToManyField[ServiceItem, BundleItem] = models.ManyToManyField(
        ServiceItem, through="BundleItem", related_name="bundles", verbose_name=_("items")
    )
    promised_materials = models.PositiveSmallIntegerField(_("promised materials"), null=True, blank=True)
    promised_steps = models.PositiveSmallIntegerField(_("promised steps"), null=True, blank=True)
    promised_days = models.PositiveSmallIntegerField(_("promised working days"), null=True, blank=True)
    promised_fee_fen = models.PositiveIntegerField(_("promised fee (fen)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service bundle")
        verbose_name_plural = _("service bundles")
        ordering = ["ordering", "code"]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    """An item's place in a bundle (the order of the combined form and of the departments)."""

    bundle = models.ForeignKey(ServiceBundle, on_delete=models.CASCADE, related_name="bundle_items")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="bundle_items")
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="bundleitem_unique")]

    def __str__(self) -> str:
        return f"{self.bundle_id}#{self.position}: {self.item_id}"


class AppState(models.TextChoices):
    """Life of an application: draft → submitted → in_progress → issued, or returned for material."""

    DRAFT = "draft", _("Draft")
    # The bare word "Submitted" is a demand's 待接单; this one reads 待受理.
    SUBMITTED = "submitted", pgettext_lazy("one-stop application", "Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    RETURNED = "returned", _("Returned for material")
    ISSUED = "issued", _("Issued")


class IdentityMethod(models.TextChoices):
    ID_CARD_READER = "id_card_reader", _("ID card reader")
    FACE = "face", _("Face recognition")
    MANUAL = "manual", _("Original ID checked by hand")


class Application(models.Model):
    """One applicant's "one thing": facts asked once, materials handed in once, identity checked once."""

    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    bundle = models.ForeignKey(ServiceBundle, on_delete=models.PROTECT, related_name="applications")
    point = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="onestop_applications", verbose_name=_("service point")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    applicant_name = models.CharField(_("applicant"), max_length=50)
    applicant_phone = models.CharField(_("phone"), max_length=20)
    applicant_id_enc = models.TextField(_("ID number (encrypted)"), editable=False)
    applicant_id_hash = models.CharField(max_length=64, db_index=True, editable=False)
    facts = models.JSONField(_("facts"), default=dict)
    materials_received = models.JSONField(_("materials received"), default=list)  # Material ids
    materials_deferred = models.JSONField(_("materials promised (容缺)"), default=list)  # Material ids
    deficiency_note = models.CharField(_("容缺受理 note"), max_length=300, blank=True)
    identity_method = models.CharField(_("identity check"), max_length=20, choices=IdentityMethod.choices, blank=True)
    identity_verified_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=AppState.choices, default=AppState.DRAFT)
    version = models.PositiveIntegerField(default=0)
    limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Stored at issuance so that the public page averages it in SQL.
    elapsed_days = models.FloatField(_("elapsed working days"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area_path", "state"], name="onestop_app_path_state"),
            models.Index(fields=["bundle", "state"], name="onestop_app_bundle_state"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.bundle.name}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.applicant_phone)


class TaskState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    ACCEPTED = "accepted", _("Being handled")
    DONE = "done", _("Done")
    RETURNED = "returned", _("Returned")


class ApplicationTask(models.Model):
    """One item's part of an application, handled by its department in parallel with the others."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="tasks")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="tasks")
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT, related_name="onestop_tasks")
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(_("state"), max_length=10, choices=TaskState.choices, default=TaskState.PENDING)
    version = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.CharField(_("result"), max_length=300, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=300, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("department task")
        verbose_name_plural = _("department tasks")
        ordering = ["application_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "item"], name="onestop_task_unique_item")]
        indexes = [models.Index(fields=["department", "state"], name="onestop_task_dept_state")]

    def __str__(self) -> str:
        return f"{self.application.number} · {self.item.name}"
